"""Opening stored datasets: the only place that decrypts a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey, Sealed, open_sealed
from service.errors import ConfigurationError
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow
from service.store.payload import DatasetPayload, decode_payload
from service.transmission.prepare import dataset_identity
from service.transmission.templates import to_templates


def open_payload(master: MasterKey, row: DatasetRow) -> DatasetPayload:
    sealed = Sealed(row.wrapped_key, row.key_id, row.nonce, row.ciphertext)
    identity = dataset_identity(row.reference_number, row.member_state, row.category)
    return decode_payload(open_sealed(master, identity, sealed))


def require_key_opens_store(sessions: sessionmaker[Session], master: MasterKey) -> None:
    """Stop before serving when the master key cannot open the store: a service started with
    another key than the one its datasets were sealed with would otherwise fail to load its
    gallery and stay unready for ever (one dataset is opened; a few ms)."""
    with sessions() as session:
        unknown = session.scalars(select(DatasetRow.key_id)
                                  .where(DatasetRow.key_id.not_in(sorted(master.key_ids)))
                                  .limit(1)).first()
        if unknown is not None:
            raise ConfigurationError(
                f"stored datasets are wrapped by master key id {unknown}, another master key "
                f"than those configured (current {master.key_id}, retired "
                f"{', '.join(master.retired_ids) or 'none'}): check ABIS_MASTER_KEY_FILE / "
                "ABIS_MASTER_KEY; after a rotation the old key stays in "
                "ABIS_RETIRED_MASTER_KEY_FILES until `abis keys rotate-master` reports that no "
                "dataset is left wrapped by it")
        row = session.scalars(select(DatasetRow).order_by(DatasetRow.id).limit(1)).first()
        if row is None:
            return
        try:
            open_payload(master, row)
        except (InvalidUnwrap, InvalidTag):
            raise ConfigurationError(
                f"the master key (id {master.key_id}) cannot open the stored datasets, sealed "
                f"with master key id {row.key_id}: the service was most likely started with "
                "another master key than its store's; check ABIS_MASTER_KEY_FILE / "
                "ABIS_MASTER_KEY and ABIS_RETIRED_MASTER_KEY_FILES") from None


def open_details(master: MasterKey, row: DatasetRow) -> dict[str, Any]:
    return open_payload(master, row).details


def open_templates(master: MasterKey, row: DatasetRow) -> matcher.Templates:
    payload = open_payload(master, row)
    return to_templates(payload.fingers, payload.face)


def template_source(sessions: sessionmaker[Session], master: MasterKey) -> matcher.TemplateSource:
    """The stored templates of given datasets, for the fast index's exact re-scoring of the
    candidates a reply can report (a read and a decryption each, about one per search)."""

    def read(ids: Sequence[int]) -> dict[int, matcher.Templates]:
        found: dict[int, matcher.Templates] = {}
        with sessions() as session:
            for chunk in in_chunks(ids):
                for row in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk))):
                    found[row.id] = open_templates(master, row)
        return found

    return read
