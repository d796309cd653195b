"""Fail when a built page loads a script, stylesheet, font or image from another host.

The site must work in an air-gapped data centre. Links a reader may follow are fine; what a
page fetches by itself is not.

    python -m docgen.check_offline SITE_DIR
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# What a browser fetches on its own: <script src>, <link href> (stylesheets, fonts, icons),
# <img src>, <iframe src>, and CSS url(...) / @import.
_FETCHED = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//|@import\s+[\"'](?:https?:)?//",
    re.IGNORECASE,
)


def remote_fetches(site: Path) -> list[str]:
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix in {".html", ".css"}:
            for match in _FETCHED.finditer(path.read_text(errors="replace")):
                found.append(f"{path.relative_to(site)}: {match.group(0)}")
    return found


def main(argv: list[str]) -> int:
    site = Path(argv[0])
    if not (site / "index.html").is_file():
        print(f"no built site in {site}", file=sys.stderr)
        return 2
    found = remote_fetches(site)
    for line in found:
        print(f"fetched from another host: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
