"""The plaintext inside a dataset's envelope: identity data as JSON, templates as raw float32.

Layout: 4-byte little-endian header length, the JSON header, then the template bytes in the
order the header lists them. Templates stay exactly as the sender encoded them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

_LENGTH = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class DatasetPayload:
    details: dict[str, Any]  # person, event, taken_at, operator_user_id, ... (JSON-ready)
    fingers: dict[int, bytes] = field(default_factory=dict)
    face: bytes | None = None


def encode_payload(payload: DatasetPayload) -> bytes:
    positions = sorted(payload.fingers)
    header = orjson.dumps(
        {
            "details": payload.details,
            "fingers": [[position, len(payload.fingers[position])] for position in positions],
            "face": None if payload.face is None else len(payload.face),
        }
    )
    blobs = [payload.fingers[position] for position in positions]
    if payload.face is not None:
        blobs.append(payload.face)
    return b"".join([_LENGTH.pack(len(header)), header, *blobs])


def decode_payload(data: bytes) -> DatasetPayload:
    (header_length,) = _LENGTH.unpack_from(data)
    offset = _LENGTH.size + header_length
    header = orjson.loads(data[_LENGTH.size : offset])
    fingers: dict[int, bytes] = {}
    for position, length in header["fingers"]:
        fingers[int(position)] = data[offset : offset + length]
        offset += length
    face = None
    if header["face"] is not None:
        face = data[offset : offset + header["face"]]
    return DatasetPayload(header["details"], fingers, face)
