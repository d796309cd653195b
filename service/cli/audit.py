"""`abis audit`: verify the chain, purge expired events, print the public key."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit.keys import AuditKeys, load_audit_keys
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
        str | None, typer.Option(help="Verify with this Ed25519 public key (hex) instead")
    ] = None,
) -> None:
    """Check the hash chain and signed checkpoints; exit 1 naming the first bad event."""
    settings = Settings()
    if public_key:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        except ValueError:
            fail("--public-key must be 64 hex digits")
            return
    else:
        key = _keys(settings).public_key
    with open_sessions(settings)() as session:
        result = verify_chain(session, key)
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
def public_key() -> None:
    """Print the public key that verifies checkpoint signatures (publish it to supervisors)."""
    typer.echo(_keys(Settings()).public_key_hex)
