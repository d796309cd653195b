"""The service's commands: serve, the tiers, API keys, audit, database, calibration.

The `abis` console script is `tooling.cli.main:app`: these commands and the operator tooling's
(synth, load, evaluate, bench, accuracy, sample). `python -m service` runs these alone."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from schemas.codes import Role
from service.cli import audit as audit_cli
from service.cli import calibrate as calibrate_cli
from service.cli import certs as certs_cli
from service.cli import db as db_cli
from service.cli import key_rotation as key_rotation_cli
from service.cli import shard as shard_cli
from service.cli import sweep as sweep_cli
from service.cli import tier as tier_cli
from service.cli.common import fail, open_sessions
from service.errors import ServiceError
from service.settings import Settings

app = typer.Typer(help="abis: Eurodac-style biometric matching (synthetic data only).",
                  no_args_is_help=True)
keys_app = typer.Typer(help="API keys of access points.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
certs_cli.register(keys_app)
key_rotation_cli.register(keys_app)
app.add_typer(audit_cli.app, name="audit")
app.add_typer(db_cli.app, name="db")
app.command()(sweep_cli.sweep)
app.command("calibrate")(calibrate_cli.calibrate)
app.command("shard")(shard_cli.shard)
app.command("dev-certs")(shard_cli.dev_certs)
app.command("writer")(tier_cli.writer)
app.command("api")(tier_cli.api)


@app.command()
def serve(
    workers: Annotated[int, typer.Option(
        min=0, help="0: one process (default); N: the writer and N API worker processes "
                    "behind the one port")] = 0,
) -> None:
    """Run the HTTP service with the ABIS_* settings."""
    import uvicorn

    if workers:
        tier_cli.serve_workers(workers)
        return

    from service.api.app import create_app
    from service.logging_setup import configure_logging
    from service.runtime import Runtime
    from service.tls.server import uvicorn_tls_options

    settings = Settings()
    configure_logging(settings.log_level)
    try:
        # Build the runtime before the port opens, so configuration errors stop us first.
        tls = uvicorn_tls_options(settings)
        runtime = Runtime.build(settings)
    except ServiceError as error:
        fail(error.detail)
        return
    application = create_app(settings, runtime)
    if runtime.master.is_dev:
        typer.secho(
            "*** DEV MODE: generated development master key at "
            f"{settings.effective_master_key_file}; never use it for real data ***",
            fg=typer.colors.YELLOW,
            err=True,
        )
    server = uvicorn.Server(uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        access_log=False,  # our RequestContext logs without client addresses
        server_header=False,
        log_config=None,
        **tls,  # HTTPS (and client certificates) when ABIS_TLS_* are set
    ))

    def stop_serving() -> None:  # the gallery failed to load: exit, do not stay unready
        server.should_exit = True

    runtime.on_failure = stop_serving
    server.run()
    if runtime.failure is not None:
        fail(runtime.failure)


@keys_app.command("create")
def keys_create(
    member_state: Annotated[str, typer.Option(help="Member State code, or EU")],
    role: Annotated[Role, typer.Option()],
    unit: Annotated[str, typer.Option(help="Unit or access point name")] = "",
    label: Annotated[str, typer.Option()] = "",
    expires_in_days: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Create a key; prints it once, alone on stdout."""
    from service.auth import issue_key

    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
    sessions = open_sessions(Settings())
    try:
        with sessions.begin() as session:
            issued = issue_key(session, member_state=member_state.upper(), role=role, unit=unit,
                               label=label, expires_at=expires, now=now)
    except ServiceError as error:
        fail(error.detail)
        return
    typer.secho(f"created key {issued.key_id} ({member_state.upper()}, {role.value})", err=True)
    sys.stdout.write(issued.key + "\n")


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids and owners; never secrets)."""
    from service.auth import list_keys

    with open_sessions(Settings())() as session:
        for row in list_keys(session):
            state = "revoked" if row.revoked_at else "active"
            typer.echo(f"{row.id}\t{row.member_state}\t{row.role}\t{row.unit}\t{state}\t"
                       f"expires={row.expires_at or '-'}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by id."""
    from service.auth import revoke_key

    with open_sessions(Settings()).begin() as session:
        if not revoke_key(session, key_id, dt.datetime.now(dt.UTC)):
            fail(f"no active key {key_id}")
    typer.echo(f"revoked {key_id}", err=True)

