"""The README's architecture picture and the tree agree.

Every package of `service/` and `tooling/` is in the picture, under its folder; everything the
picture names exists, and every top-level folder of the repository is in it: a new package or
folder means a new line there.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
_TOP = re.compile(r"^([a-z_]+)/\s")
_CHILD = re.compile(r"^\s+[├└]─ (\S+)")


def picture() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Architecture\n", 1)[1]
    return section.split("```", 2)[1].splitlines()


def named_top_level() -> set[str]:
    return {match.group(1) for line in picture() if (match := _TOP.match(line))}


def named_in(folder: str) -> set[str]:
    """What the picture lists under the top-level `folder` (its lines after the folder's)."""
    named: dict[str, set[str]] = {}
    parent = ""
    for line in picture():
        if top := _TOP.match(line):
            parent = top.group(1)
        elif child := _CHILD.match(line):
            named.setdefault(parent, set()).add(child.group(1))
    return named.get(folder, set())


def tracked_top_level_folders() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return {path.split("/")[0] for path in listed if "/" in path and not path.startswith(".")}


def packages(folder: str) -> set[str]:
    return {f"{path.name}/" for path in (ROOT / folder).iterdir()
            if path.is_dir() and any(path.glob("*.py"))}


DETAILED = ("service", "tooling")  # the folders whose packages the picture lists one by one


def test_the_picture_is_found() -> None:
    assert {"service", "tooling", "matcher", "schemas", "tests"} <= named_top_level()
    assert len(named_in("service")) >= 10
    assert len(named_in("tooling")) >= 4


def test_everything_the_picture_names_exists() -> None:
    absent = sorted(name for name in named_top_level() if not (ROOT / name).is_dir())
    assert not absent, f"the README's picture names folders that do not exist: {absent}"
    for folder in named_top_level():
        missing = sorted(name for name in named_in(folder) if not (ROOT / folder / name).exists())
        assert not missing, f"the README's picture names what {folder}/ does not hold: {missing}"


def test_every_package_of_service_and_tooling_is_in_the_picture() -> None:
    for folder in DETAILED:
        unnamed = sorted(packages(folder) - named_in(folder))
        assert not unnamed, f"packages of {folder}/ missing from the README's picture: {unnamed}"


def test_every_top_level_folder_is_in_the_picture() -> None:
    unnamed = sorted(tracked_top_level_folders() - named_top_level())
    assert not unnamed, f"top-level folders missing from the README's picture: {unnamed}"
