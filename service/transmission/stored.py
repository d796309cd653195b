"""Opening stored datasets: the only place that decrypts a row."""

from __future__ import annotations

from typing import Any

from service.crypto import MasterKey, Sealed, open_sealed
from service.store.models import DatasetRow
from service.store.payload import DatasetPayload, decode_payload
from service.transmission.prepare import dataset_identity


def open_payload(master: MasterKey, row: DatasetRow) -> DatasetPayload:
    sealed = Sealed(row.wrapped_key, row.key_id, row.nonce, row.ciphertext)
    identity = dataset_identity(row.reference_number, row.member_state, row.category)
    return decode_payload(open_sealed(master, identity, sealed))


def open_details(master: MasterKey, row: DatasetRow) -> dict[str, Any]:
    return open_payload(master, row).details
