"""mkdocs-gen-files script: writes the reference pages into the site at build time.

Nothing generated is committed, so nothing generated can be stale; a page that cannot be
generated fails `mkdocs build --strict`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

# mkdocs-gen-files runs this file by path; the repository root makes `docgen` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docgen import cli_page, openapi_page, problems_page, roles_page, settings_page  # noqa: E402


def write(path: str, text: str) -> None:
    with mkdocs_gen_files.open(path, "w") as handle:
        handle.write(text)
    if path.endswith(".md"):
        mkdocs_gen_files.set_edit_path(path, "docgen/pages.py")


spec = openapi_page.document()
write("reference/settings.md", settings_page.render())
write("reference/problems.md", problems_page.render())
write("reference/cli.md", cli_page.render())
write("reference/api.md", openapi_page.render(spec))
write("reference/openapi.json", openapi_page.render_json(spec))
write("reference/roles.md", roles_page.render(spec))
