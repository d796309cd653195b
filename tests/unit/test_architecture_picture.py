"""The README's architecture picture and the tree agree.

Every package of `service/` is in the picture, everything the picture names exists, and every
top-level folder of the repository is in it: a new package or folder means a new line there.
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


def named_in_service() -> set[str]:
    return {match.group(1) for line in picture() if (match := _CHILD.match(line))}


def tracked_top_level_folders() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return {path.split("/")[0] for path in listed if "/" in path and not path.startswith(".")}


def service_packages() -> set[str]:
    return {f"{path.name}/" for path in (ROOT / "service").iterdir()
            if path.is_dir() and any(path.glob("*.py"))}


def test_the_picture_is_found() -> None:
    assert {"service", "matcher", "schemas", "tests"} <= named_top_level()
    assert len(named_in_service()) >= 10


def test_everything_the_picture_names_exists() -> None:
    absent = sorted(name for name in named_top_level() if not (ROOT / name).is_dir())
    assert not absent, f"the README's picture names folders that do not exist: {absent}"
    missing = sorted(name for name in named_in_service() if not (ROOT / "service" / name).exists())
    assert not missing, f"the README's picture names what service/ does not hold: {missing}"


def test_every_package_of_service_is_in_the_picture() -> None:
    unnamed = sorted(service_packages() - named_in_service())
    assert not unnamed, f"packages of service/ missing from the README's picture: {unnamed}"


def test_every_top_level_folder_is_in_the_picture() -> None:
    unnamed = sorted(tracked_top_level_folders() - named_top_level())
    assert not unnamed, f"top-level folders missing from the README's picture: {unnamed}"
