"""Where the time goes: a py-spy raw profile (collapsed stacks, `--subprocesses`) summed per
process into its top frames by own time (the function on top of the stack) and by total time
(anywhere on the stack), each as a share of that process's samples.

    .venv/bin/python -m loadtests.profile_summary reports/…/workers-2/profile-2.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_LINE = re.compile(r"\s*\(([^)]*?)(?::\d+)?\)$")


def _frame(raw: str) -> str:
    """`function (path/to/module.py:123)` -> `function (module.py)`: lines merged."""
    match = _LINE.search(raw)
    if match is None:
        return raw.strip()
    return f"{raw[:match.start()].strip()} ({Path(match.group(1)).name})"


def summarise(text: str, top: int = 12) -> dict[str, dict[str, object]]:
    own: dict[str, Counter[str]] = defaultdict(Counter)
    anywhere: dict[str, Counter[str]] = defaultdict(Counter)
    samples: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        # `--subprocesses` puts the process chain first (parent;child): the last one is ours.
        chain = [f for f in frames if f.startswith("process ")]
        process = chain[-1] if chain else "process"
        calls = [_frame(f) for f in frames if not f.startswith(("process ", "thread "))]
        if not calls:
            continue
        n = int(count)
        samples[process] += n
        own[process][calls[-1]] += n
        for name in set(calls):
            anywhere[process][name] += n
    return {
        process: {
            "samples": total,
            "own": [(name, round(100 * n / total, 1)) for name, n in own[process].most_common(top)],
            "total": [(name, round(100 * n / total, 1))
                      for name, n in anywhere[process].most_common(top)],
        }
        for process, total in samples.most_common()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for process, summary in summarise(args.profile.read_text(), args.top).items():
        print(f"## {process}: {summary['samples']} samples")
        for kind in ("own", "total"):
            print(f"  by {kind} time:")
            for name, share in summary[kind]:  # type: ignore[attr-defined]
                print(f"    {share:5.1f}%  {name}")


if __name__ == "__main__":
    main()
