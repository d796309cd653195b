"""CPU time of a server and everything below it (`abis serve --workers N` is a process tree:
the supervisor, the writer, the API workers)."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def _stat(entry: Path) -> list[str] | None:
    """The fields of ENTRY/stat after the command name (ENTRY: /proc/PID, or a thread's
    /proc/PID/task/TID)."""
    try:
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu(fields: list[str]) -> float:
    """User + system CPU seconds of a /proc stat line's fields."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry)) is not None:
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
    fields = _stat(Path(f"/proc/{pid}"))
    return 0.0 if fields is None else _cpu(fields)


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds so far of `pid` and each of its live descendants (sum the differences of
    two readings per pid: a process that ended in between is not counted)."""
    return {each: cpu_seconds(each) for each in [pid, *descendants(pid)]}


def used_between(before: Mapping[Key, float], after: Mapping[Key, float]) -> float:
    """CPU used between two readings (per pid, or per (pid, thread id))."""
    return sum(seconds - before.get(key, 0.0) for key, seconds in after.items())


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
                named = (task / "comm").read_text().strip() == name
            except OSError:
                continue
            if named and (fields := _stat(task)) is not None:
                found[(each, int(task.name))] = _cpu(fields)
    return found
