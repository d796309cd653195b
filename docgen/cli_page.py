"""The `abis` command reference, from the typer app (typer's own Markdown generator)."""

from __future__ import annotations

import typer
import typer.main
from typer.cli import get_docs_for_click

from tooling.cli.main import app

HEADER = """Generated from `service/cli/main.py` (the service's commands) and `tooling/cli/main.py`
(the operator tooling's) by `docgen/cli_page.py`. Every command takes the `ABIS_*`
[settings](settings.md) from the environment.

"""


def render() -> str:
    command = typer.main.get_command(app)
    context = typer.Context(command)
    body = get_docs_for_click(obj=command, ctx=context, name="abis", title="The abis command")
    title, _, rest = body.partition("\n")
    return title + "\n\n" + HEADER + rest.lstrip("\n")
