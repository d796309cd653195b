"""`abis audit`: verify the chain, purge expired events, print the public key."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from service.audit.keys import AuditKeys, load_audit_keys, public_key_from_hex, public_key_hex
from service.audit.purge import purge_expired
from service.audit.verify import verify_chain
from service.cli.common import fail, open_sessions
from service.errors import ServiceError
from service.settings import Settings

app = typer.Typer(help="The audit log: verify, purge, public key.", no_args_is_help=True)


def _keys(settings: Settings) -> AuditKeys:
    try:
        return load_audit_keys(settings)
    except ServiceError as error:
        fail(error.detail)
        raise  # unreachable: fail exits


@app.command()
def verify(
    public_key: Annotated[
        list[str] | None, typer.Option(help="Verify with this Ed25519 public key (hex) instead "
                                            "(repeat it for each trusted key, e.g. retired ones)")
    ] = None,
) -> None:
    """Check the hash chain and signed checkpoints; exit 1 naming the first bad event."""
    settings = Settings()
    if public_key:
        try:
            trusted = tuple(public_key_from_hex(text) for text in public_key)
        except ValueError:
            fail("--public-key must be 64 hex digits")
            return
    else:
        trusted = _keys(settings).trusted_public_keys
    with open_sessions(settings)() as session:
        result = verify_chain(session, trusted)
    if result.ok:
        typer.echo(f"ok: {result.events_checked} events, "
                   f"{result.checkpoints_checked} signed checkpoints, last event {result.last_seq}")
        return
    typer.secho(f"TAMPERED at event {result.first_bad_seq}: {result.problem}",
                fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def purge(
    today: Annotated[str | None, typer.Option(help="Act as if today were YYYY-MM-DD")] = None,
) -> None:
    """Blank events whose retention ended (one year after the data they concern)."""
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        fail("--today must be YYYY-MM-DD")
        return
    with open_sessions(Settings()).begin() as session:
        purged = purge_expired(session, day)
    typer.echo(f"purged {purged} events")


@app.command("public-key")
def public_key(
    trusted: Annotated[bool, typer.Option(help="Also print the retired keys' public keys")
                       ] = False,
) -> None:
    """Print the public key that verifies checkpoint signatures (publish it to supervisors)."""
    keys = _keys(Settings())
    for key in keys.trusted_public_keys if trusted else (keys.public_key,):
        typer.echo(public_key_hex(key))
