"""The master key (key-encryption key): loaded from the environment or a file, never defaulted.

Fails closed: no key outside dev mode, a key of the wrong length, or an obvious placeholder
(all bytes equal, "changeme"...) stops the service. Dev mode generates a key file (0600) beside
the data and says loudly that it is a DEV key.

Rotation: the key ring is the current key (ABIS_MASTER_KEY_FILE / ABIS_MASTER_KEY) plus retired
keys (ABIS_RETIRED_MASTER_KEY_FILES). New data is always wrapped by the current key; a wrapped key
is opened by the key its row names (`key_id`), so rows are re-wrapped (`abis keys rotate-master`)
while the service keeps serving, and a retired key is dropped once nothing names it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from service.crypto.keyfile import decode_secret, generate_secret_file, read_secret_file
from service.settings import Settings

generate_key_file = generate_secret_file  # the name tests and tools know


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(b"abis-kek-id" + key).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    """Wraps data keys with the current key and unwraps them with the key (current or retired)
    their `key_id` names (RFC 3394 AES key wrap)."""

    key: bytes = field(repr=False)
    is_dev: bool = False
    retired: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def key_id(self) -> str:
        return key_id_of(self.key)

    @property
    def retired_ids(self) -> list[str]:
        return [key_id_of(key) for key in self.retired]

    @property
    def key_ids(self) -> set[str]:
        """Every key id this ring can open."""
        return {self.key_id, *self.retired_ids}

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self.key, data_key)

    def unwrap(self, wrapped: bytes, key_id: str | None = None) -> bytes:
        """Unwrap with the key named `key_id` (the current key when None); InvalidUnwrap when
        the ring holds no such key or the wrapped key was altered."""
        if key_id is None or key_id == self.key_id:
            return aes_key_unwrap(self.key, wrapped)
        for key in self.retired:
            if key_id_of(key) == key_id:
                return aes_key_unwrap(key, wrapped)
        raise InvalidUnwrap(f"master key {key_id} is not configured")


def load_master_key(settings: Settings) -> MasterKey:
    """The configured key ring; in dev mode, the generated dev key file is its current key."""
    retired = tuple(
        read_secret_file(path, configured=True, dev=False, what="retired master key",
                         setting="ABIS_RETIRED_MASTER_KEY_FILES")
        for path in settings.retired_master_key_paths
    )
    if settings.master_key:
        current = decode_secret(settings.master_key.encode(), "ABIS_MASTER_KEY")
        return MasterKey(current, retired=_without(retired, current))
    key = read_secret_file(
        settings.effective_master_key_file,
        configured=settings.master_key_file is not None,
        dev=settings.dev,
        what="master key",
        setting="ABIS_MASTER_KEY_FILE or ABIS_MASTER_KEY",
    )
    return MasterKey(key, is_dev=settings.dev and settings.master_key_file is None,
                     retired=_without(retired, key))


def _without(retired: tuple[bytes, ...], current: bytes) -> tuple[bytes, ...]:
    return tuple(key for key in retired if key != current)
