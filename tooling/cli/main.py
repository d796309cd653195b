"""The `abis` console script: the service's commands (`service.cli.main`) and the operator
tooling's, in one command. The service does not know the tooling; the tooling adds itself here."""

from __future__ import annotations

import typer

from service.cli.main import app as service_app
from tooling.cli import accuracy as accuracy_cli
from tooling.cli import bench as bench_cli
from tooling.cli import operators
from tooling.cli import sample as sample_cli

app = typer.Typer(help=service_app.info.help, no_args_is_help=True)
# The service's commands and groups, as they are (copied, so `service_app` stays service-only).
app.registered_commands.extend(service_app.registered_commands)
app.registered_groups.extend(service_app.registered_groups)
operators.register(app)
app.command("bench")(bench_cli.bench)
app.command("accuracy")(accuracy_cli.accuracy)
app.command("sample")(sample_cli.sample)
