"""Migrations are history: each one must keep meaning what it meant when it was written.

A migration that imports live code (models, trigger definitions, constants) silently changes
when that code changes, and an old database would then be migrated to a schema that never
existed. So a revision may import only alembic, SQLAlchemy and the standard library.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

VERSIONS = Path(__file__).parents[2] / "service" / "store" / "migrations" / "versions"
ALLOWED = {"alembic", "sqlalchemy", "__future__"} | set(sys.stdlib_module_names)


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else (node.module or "").split(".")[0])
    return roots


REVISIONS = sorted(path for path in VERSIONS.glob("[0-9]*.py"))


def test_there_are_revisions_to_check() -> None:
    assert len(REVISIONS) >= 4


@pytest.mark.parametrize("path", REVISIONS, ids=lambda path: path.stem)
def test_a_revision_imports_no_live_code(path: Path) -> None:
    live = _imported_roots(path) - ALLOWED
    assert not live, f"{path.name} imports {sorted(live)}"
