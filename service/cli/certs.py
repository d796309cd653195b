"""`abis keys bind-cert` / `unbind-cert`: tie a key to its access point's client certificate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import fail, open_sessions
from service.errors import ServiceError
from service.settings import Settings


def bind_cert(
    key_id: str,
    cert: Annotated[Path, typer.Option(help="The access point's client certificate (PEM)",
                                       exists=True, dir_okay=False)],
) -> None:
    """Accept KEY_ID only over mutual TLS with this client certificate."""
    from service.tls.binding import bind

    try:
        with open_sessions(Settings()).begin() as session:
            row = bind(session, key_id, cert.read_text(), dt.datetime.now(dt.UTC))
            typer.echo(f"bound {key_id} to {row.subject} (sha256 {row.sha256})", err=True)
    except ServiceError as error:
        fail(error.detail)


def unbind_cert(key_id: str) -> None:
    """Remove KEY_ID's certificate binding."""
    from service.tls.binding import unbind

    with open_sessions(Settings()).begin() as session:
        if not unbind(session, key_id):
            fail(f"key {key_id} is not bound to a certificate")
    typer.echo(f"unbound {key_id}", err=True)


def register(keys: typer.Typer) -> None:
    keys.command("bind-cert")(bind_cert)
    keys.command("unbind-cert")(unbind_cert)
