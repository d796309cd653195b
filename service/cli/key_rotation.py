"""Key rotation on a running service, audited (docs/operators/keys.md).

`abis keys rotate-master` re-wraps every data key by the current master key. Run it against the
database while the service runs, after every process was restarted with the new key as
ABIS_MASTER_KEY_FILE and the old one in ABIS_RETIRED_MASTER_KEY_FILES. It can be interrupted and
run again; it says when a retired key can be dropped.

`abis keys rotate-audit` creates the next audit signing key and records the hand-over in the
chain, in an event the current key signs a checkpoint of: the old key vouches for the new one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import fail, keys_or_fail, open_sessions
from service.errors import ServiceError
from service.operations import Operation
from service.settings import Settings

MASTER_ROTATION_ROUTE = "master-key-rotation"
AUDIT_ROTATION_ROUTE = "audit-key-rotation"


def rotate_master() -> None:
    """Re-wrap every dataset's data key by the current master key (ABIS_MASTER_KEY_FILE),
    opening them with the retired keys (ABIS_RETIRED_MASTER_KEY_FILES); audited."""
    from service.audit.events import finish
    from service.gallery.snapshot import snapshot_key_id
    from service.lifecycle.retention import system_audit
    from service.lifecycle.rewrap import rewrap_datasets

    settings = Settings()
    sessions = open_sessions(settings)
    master, trail = keys_or_fail(settings)
    typer.echo(f"current master key {master.key_id}; retired: "
               f"{', '.join(master.retired_ids) or 'none'}", err=True)
    result = rewrap_datasets(
        sessions, master,
        progress=lambda done, total: typer.echo(f"re-wrapped {done:,}/{total:,}", err=True))
    audit = system_audit(MASTER_ROTATION_ROUTE, "operator master-key rotation "
                                                "(abis keys rotate-master)",
                         operation=Operation.MASTER_KEY_ROTATION)
    audit.outcome = {"current_key_id": master.key_id, "retired_key_ids": master.retired_ids,
                     "rewrapped": result.rewrapped,
                     "changed_meanwhile": result.changed_meanwhile, "left": result.left}
    now = dt.datetime.now(dt.UTC)
    trail.load_head(sessions)
    with sessions.begin() as session:
        trail.append(session, [finish(audit, 200 if not result.left else 409, now)], now)
    typer.echo(f"re-wrapped {result.rewrapped:,} datasets ({result.changed_meanwhile:,} "
               "changed by the service meanwhile, already under the current key or erased)",
               err=True)
    snapshot = settings.effective_snapshot_file
    sealed_by = None if snapshot is None else snapshot_key_id(snapshot)
    if sealed_by is not None and sealed_by != master.key_id:
        typer.echo(f"the gallery snapshot {snapshot} is still sealed by {sealed_by}: the "
                   "service replaces it at its next snapshot (if that key is dropped first, "
                   "the next start rebuilds the gallery from the store)", err=True)
    if result.left:
        left = ", ".join(f"{key_id}: {count:,}" for key_id, count in sorted(result.left.items()))
        fail(f"datasets still wrapped by other keys ({left}): is every process (service, "
             "writer, shards) running with the new master key? run this again")
    typer.echo("no dataset is wrapped by a retired key: the retired keys can be removed from "
               "ABIS_RETIRED_MASTER_KEY_FILES (and destroyed) at the next restart", err=True)


def rotate_audit(
    new_key_file: Annotated[Path, typer.Option(help="Where to create the new audit signing "
                                                    "key (mode 0600); must not exist yet")],
) -> None:
    """Create the next audit signing key and record the hand-over, signed by the current key;
    prints the settings to restart with."""
    from service.audit.events import finish
    from service.audit.keys import keys_from_seed, load_audit_keys
    from service.audit.trail import AuditTrail
    from service.crypto.keyfile import generate_secret_file, read_secret_file
    from service.lifecycle.retention import system_audit

    settings = Settings()
    sessions = open_sessions(settings)
    if new_key_file.exists():
        fail(f"{new_key_file} exists: choose a new file")
    try:
        current = load_audit_keys(settings)
        generate_secret_file(new_key_file)
        new = keys_from_seed(read_secret_file(new_key_file, configured=True, dev=False,
                                              what="new audit signing key",
                                              setting="--new-key-file"))
    except (ServiceError, OSError) as error:
        fail(error.detail if isinstance(error, ServiceError) else str(error))
    trail = AuditTrail(current, checkpoint_every=1,
                       checkpoint_seconds=settings.audit_checkpoint_seconds)
    audit = system_audit(AUDIT_ROTATION_ROUTE, "operator audit-key rotation "
                                               "(abis keys rotate-audit)",
                         operation=Operation.AUDIT_KEY_ROTATION)
    audit.outcome = {"from_public_key": current.public_key_hex,
                     "to_public_key": new.public_key_hex}
    now = dt.datetime.now(dt.UTC)
    trail.load_head(sessions)
    with sessions.begin() as session:
        trail.append(session, [finish(audit, 200, now)], now)
    trusted = [part.strip() for part in settings.audit_trusted_public_keys.split(",")
               if part.strip()]
    typer.echo(f"new audit key {new.public_key_hex} in {new_key_file}; the hand-over is "
               "recorded and signed by the current key. Restart every process with:", err=True)
    typer.echo(f"ABIS_AUDIT_KEY_FILE={new_key_file}")
    typer.echo(f"ABIS_AUDIT_TRUSTED_PUBLIC_KEYS={','.join([*trusted, current.public_key_hex])}")


def register(keys: typer.Typer) -> None:
    keys.command("rotate-master")(rotate_master)
    keys.command("rotate-audit")(rotate_audit)
