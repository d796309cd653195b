"""Measured genuine/impostor statistics of every synthetic profile (docs/accuracy.md).

    .venv/bin/python benchmarks/profile_stats.py --persons 3000 --json benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tooling.synth.profile_stats import profile_statistics  # noqa: E402
from tooling.synth.profiles import PROFILES, profile_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--profile", action="append", choices=list(PROFILES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {}
    for name in args.profile or list(PROFILES):
        print(f"profile {name}: {args.persons} persons ...", file=sys.stderr)
        results[name] = profile_statistics(profile_model(name), args.persons)
        print(json.dumps({name: results[name]}, indent=1))
    document = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": " ".join(sys.argv), "profiles": results}
    if args.json:
        args.json.write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
