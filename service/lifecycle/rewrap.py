"""Master-key rotation of the store: every data key re-wrapped by the current master key.

Only the wrapped data key changes (the data key, nonce and ciphertext stay), so a row is
rewritten in a few bytes. Rows go in chunks, each in its own short transaction, while the
service keeps writing: every update is a compare-and-set on the (key id, wrapped key) it read,
so a dataset amended or erased meanwhile (re-sealed under the current key, or gone) is left as
the service wrote it, never paired with a data key that does not open its new ciphertext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.crypto import MasterKey
from service.store.models import DatasetRow

REWRAP_CHUNK = 500


@dataclass
class Rewrapped:
    rewrapped: int = 0
    changed_meanwhile: int = 0  # amended or erased by the service during the rotation
    left: dict[str, int] = field(default_factory=dict)  # key id -> rows still wrapped by it


def wrapped_by_key(session: Session, current: str) -> dict[str, int]:
    """How many datasets each key other than `current` still wraps."""
    rows = session.execute(select(DatasetRow.key_id, func.count())
                           .where(DatasetRow.key_id != current).group_by(DatasetRow.key_id))
    return {key_id: int(count) for key_id, count in rows}


def rewrap_datasets(sessions: sessionmaker[Session], master: MasterKey, *,
                    chunk: int = REWRAP_CHUNK,
                    progress: Callable[[int, int], None] | None = None) -> Rewrapped:
    """Re-wrap every data key not wrapped by `master`'s current key; `progress(done, total)`
    after each chunk. Rows wrapped by a key the ring lacks are left and counted in `left`."""
    result = Rewrapped()
    with sessions() as session:
        total = sum(wrapped_by_key(session, master.key_id).values())
    openable = sorted(master.key_ids - {master.key_id})
    after = 0
    done = 0
    while openable:
        with sessions.begin() as session:
            rows = session.execute(
                select(DatasetRow.id, DatasetRow.key_id, DatasetRow.wrapped_key)
                .where(DatasetRow.id > after, DatasetRow.key_id.in_(openable))
                .order_by(DatasetRow.id).limit(chunk)).all()
            if not rows:
                break
            for row_id, key_id, wrapped in rows:
                data_key = master.unwrap(wrapped, key_id)
                written = session.execute(
                    update(DatasetRow)
                    .where(DatasetRow.id == row_id, DatasetRow.key_id == key_id,
                           DatasetRow.wrapped_key == wrapped)
                    .values(key_id=master.key_id, wrapped_key=master.wrap(data_key))
                    .execution_options(synchronize_session=False))
                if written.rowcount == 1:  # type: ignore[attr-defined]
                    result.rewrapped += 1
                else:
                    result.changed_meanwhile += 1
            after = rows[-1][0]
            done += len(rows)
        if progress is not None:
            progress(done, total)
    with sessions() as session:
        result.left = wrapped_by_key(session, master.key_id)
    return result
