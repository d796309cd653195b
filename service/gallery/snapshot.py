"""Encrypted gallery snapshots: startup loads one instead of decrypting every stored dataset.

File layout (ABIS_DATA_DIR/gallery.snapshot by default):
    MAGIC, 4-byte little-endian header length, JSON header (array names, dtypes, shapes; the
    snapshot's data key wrapped by the master key; its key id), then the arrays' bytes in header
    order, cut into 16 MiB chunks, each sealed with AES-256-GCM under the snapshot's fresh data
    key: nonce = chunk number, associated data = SHA-256 of the header + chunk number + a
    last-chunk flag, so chunks cannot be reordered, dropped, truncated or moved to another file.
Written to a temporary file, fsynced, renamed over the previous snapshot, directory fsynced:
a crash leaves the old snapshot or the new one, never a mix. The gallery exports only live
entries, so once a later snapshot is written no erased dataset remains in the file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap

import matcher
from service.crypto import MasterKey

MAGIC = b"ABIS-GALLERY-SNAPSHOT/1\n"
_LENGTH = struct.Struct("<I")
_CHUNK = 16 * 1024 * 1024
_TAG = 16


class SnapshotError(Exception):
    """The snapshot cannot be used (missing, other key, altered, other configuration)."""


def _aad(header_hash: bytes, index: int, last: bool) -> bytes:
    return header_hash + struct.pack("<QB", index, int(last))


def _nonce(index: int) -> bytes:
    return struct.pack("<4xQ", index)  # a fresh key per snapshot: counter nonces never repeat


def write_snapshot(path: Path, gallery: matcher.Gallery, master: MasterKey) -> int:
    """Write the gallery's live entries to `path`, encrypted; returns how many entries."""
    return write_state(path, gallery.export_state(), master)


def write_state(path: Path, state: dict[str, npt.NDArray[np.generic]], master: MasterKey, *,
                seq: int | None = None) -> int:
    """Write exported gallery arrays, encrypted; `seq` (a shard's last applied index-log
    sequence) goes into the authenticated header. Returns how many entries."""
    names = sorted(state)
    arrays = [np.ascontiguousarray(state[name]) for name in names]
    data_key = AESGCM.generate_key(bit_length=256)
    total = sum(a.nbytes for a in arrays)
    header = orjson.dumps({
        "key_id": master.key_id,
        "wrapped_key": base64.b64encode(master.wrap(data_key)).decode(),
        "arrays": [[n, a.dtype.str, list(a.shape)] for n, a in zip(names, arrays, strict=True)],
        "bytes": total,
        **({} if seq is None else {"seq": seq}),
    })
    header_hash = hashlib.sha256(header).digest()
    aead = AESGCM(data_key)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(MAGIC + _LENGTH.pack(len(header)) + header)
        count = max(1, -(-total // _CHUNK))
        for index, chunk in enumerate(_chunks(arrays)):
            handle.write(aead.encrypt(_nonce(index), chunk, _aad(
                header_hash, index, index == count - 1)))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return len(state["entry_ids"])


def _chunks(arrays: list[npt.NDArray[np.generic]]) -> Iterator[bytes]:
    """The arrays' bytes cut into _CHUNK pieces, one piece in memory at a time."""
    pending = bytearray()
    produced = False
    for array in arrays:
        view = array.reshape(-1).view(np.uint8).data
        while view.nbytes:
            take = _CHUNK - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) == _CHUNK:
                yield bytes(pending)
                produced = True
                pending.clear()
    if pending or not produced:
        yield bytes(pending)


def read_state(path: Path, master: MasterKey) -> dict[str, npt.NDArray[np.generic]]:
    """Decrypt a snapshot's arrays; SnapshotError if it is missing, not ours or altered."""
    return read_snapshot(path, master)[0]


def read_snapshot(path: Path, master: MasterKey
                  ) -> tuple[dict[str, npt.NDArray[np.generic]], int | None]:
    """A snapshot's arrays and the index-log sequence it was written at (None if untagged).
    The header is authenticated: every chunk's associated data holds its hash."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise SnapshotError("no snapshot") from None
    with handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise SnapshotError("not a gallery snapshot")
        (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
        header_bytes = handle.read(length)
        header = orjson.loads(header_bytes)
        if header["key_id"] not in master.key_ids:
            raise SnapshotError("snapshot was written under another master key")
        try:
            data_key = master.unwrap(base64.b64decode(header["wrapped_key"]), header["key_id"])
        except (InvalidUnwrap, ValueError):
            raise SnapshotError("snapshot key does not unwrap") from None
        header_hash = hashlib.sha256(header_bytes).digest()
        total = int(header["bytes"])
        count = max(1, -(-total // _CHUNK))
        aead = AESGCM(data_key)
        buffer = bytearray(total)
        offset = 0
        for index in range(count):
            size = min(_CHUNK, total - offset) + _TAG
            sealed = handle.read(size)
            try:
                plain = aead.decrypt(_nonce(index), sealed, _aad(header_hash, index,
                                                                 index == count - 1))
            except InvalidTag:
                raise SnapshotError("snapshot is altered or truncated") from None
            buffer[offset : offset + len(plain)] = plain
            offset += len(plain)
        if handle.read(1):
            raise SnapshotError("snapshot has trailing data")
    state: dict[str, npt.NDArray[np.generic]] = {}
    offset = 0
    for name, dtype, shape in header["arrays"]:
        array = np.frombuffer(buffer, dtype=np.dtype(dtype), count=int(np.prod(shape)),
                              offset=offset).reshape(shape)
        state[name] = array
        offset += array.nbytes
    seq = header.get("seq")
    return state, None if seq is None else int(seq)


def snapshot_key_id(path: Path) -> str | None:
    """The id of the master key that sealed the snapshot at `path` (None: no snapshot)."""
    try:
        with path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                return None
            (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
            return str(orjson.loads(handle.read(length))["key_id"])
    except FileNotFoundError:
        return None


def load_snapshot(path: Path, master: MasterKey, gallery: matcher.Gallery) -> int:
    """Replace the gallery's content with the snapshot's; returns how many entries.
    SnapshotError when it cannot be used (the caller rebuilds from the store instead)."""
    state = read_state(path, master)
    try:
        gallery.load_state(state)
    except (ValueError, KeyError) as error:
        raise SnapshotError(f"snapshot does not fit this configuration: {error}") from None
    return len(state["entry_ids"])
