"""mkdocs hook: put the pages of `extra.optional_pages` into the nav once their files exist.

Pages that other branches are writing get a place in the nav before they land, without a
placeholder page and without a nav entry that would point at nothing (which `--strict` refuses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig


def _section(nav: list[Any], title: str) -> list[Any]:
    for entry in nav:
        if isinstance(entry, dict) and title in entry and isinstance(entry[title], list):
            section: list[Any] = entry[title]
            return section
    raise ValueError(f"optional_pages names a nav section that does not exist: {title!r}")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    wanted: dict[str, list[dict[str, str]]] = config.extra.get("optional_pages", {})
    docs = Path(config.docs_dir)
    for title, pages in wanted.items():
        section = _section(config.nav or [], title)
        section.extend(page for page in pages if all((docs / path).is_file()
                                                     for path in page.values()))
    return config
