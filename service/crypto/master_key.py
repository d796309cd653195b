"""The master key (key-encryption key): loaded from the environment or a file, never defaulted.

Fails closed: no key outside dev mode, a key of the wrong length, or an obvious placeholder
(all bytes equal, "changeme"...) stops the service. Dev mode generates a key file (0600) beside
the data and says loudly that it is a DEV key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from service.crypto.keyfile import decode_secret, generate_secret_file, read_secret_file
from service.settings import Settings

generate_key_file = generate_secret_file  # the name tests and tools know


@dataclass(frozen=True)
class MasterKey:
    """Wraps and unwraps data keys (RFC 3394 AES key wrap); `key_id` names it for rotation."""

    key: bytes = field(repr=False)
    is_dev: bool = False

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"abis-kek-id" + self.key).hexdigest()[:16]

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self.key, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        return aes_key_unwrap(self.key, wrapped)


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key; in dev mode, the generated dev key file."""
    if settings.master_key:
        return MasterKey(decode_secret(settings.master_key.encode(), "ABIS_MASTER_KEY"))
    key = read_secret_file(
        settings.effective_master_key_file,
        configured=settings.master_key_file is not None,
        dev=settings.dev,
        what="master key",
        setting="ABIS_MASTER_KEY_FILE or ABIS_MASTER_KEY",
    )
    return MasterKey(key, is_dev=settings.dev and settings.master_key_file is None)
