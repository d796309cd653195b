"""CPU time of a server and everything below it (`abis serve --workers N` is a process tree:
the supervisor, the writer, the API workers)."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) of a process so far: a measure of cost per request
    that holds up on a shared machine, where throughput alone depends on the neighbours."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds so far of `pid` and each of its live descendants (sum the differences of
    two readings per pid: a process that ended in between is not counted)."""
    return {each: cpu_seconds(each) for each in [pid, *descendants(pid)]}


def used_between(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def thread_cpu_seconds(pid: int, name: str) -> dict[tuple[int, int], float]:
    """CPU seconds so far of every thread called `name` (its OS name, /proc/…/comm) in `pid`
    and its descendants, per (pid, thread id): the writer's batch thread names itself
    `abis-writer`, and its CPU per request is the serial part of the tier's cost."""
    found: dict[tuple[int, int], float] = {}
    for each in [pid, *descendants(pid)]:
        try:
            tasks = list(Path(f"/proc/{each}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                if (task / "comm").read_text().strip() != name:
                    continue
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[(each, int(task.name))] = (int(fields[11]) + int(fields[12])) / os.sysconf(
                "SC_CLK_TCK")
    return found


def threads_used_between(before: dict[tuple[int, int], float],
                         after: dict[tuple[int, int], float]) -> float:
    return sum(seconds - before.get(key, 0.0) for key, seconds in after.items())
