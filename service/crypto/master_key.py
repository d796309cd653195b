"""The master key (key-encryption key): loaded from the environment or a file, never defaulted.

Fails closed: no key outside dev mode, a key of the wrong length, or an obvious placeholder
(all bytes equal, "changeme"...) stops the service. Dev mode generates a key file (0600) beside
the data and says loudly that it is a DEV key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from service.errors import ConfigurationError
from service.settings import Settings

KEY_BYTES = 32
_PLACEHOLDERS = {b"changeme", b"change-me", b"secret", b"password", b"dev", b"test"}


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


def _decode(text: bytes, origin: str) -> bytes:
    stripped = text.strip()
    if stripped.lower() in _PLACEHOLDERS:
        raise ConfigurationError(f"{origin} holds a placeholder, not a key")
    try:
        key = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{origin} is not base64 of {KEY_BYTES} bytes") from None
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{origin} must hold {KEY_BYTES} bytes, not {len(key)}")
    if len(set(key)) < 8:
        raise ConfigurationError(f"{origin} looks like a placeholder (too few distinct bytes)")
    return key


def generate_key_file(path: Path) -> None:
    """Write a fresh random key, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key; in dev mode, the generated dev key file."""
    if settings.master_key:
        return MasterKey(_decode(settings.master_key.encode(), "ABIS_MASTER_KEY"))
    path = settings.effective_master_key_file
    if settings.master_key_file is None and not settings.dev:
        raise ConfigurationError(
            "no master key: set ABIS_MASTER_KEY_FILE or ABIS_MASTER_KEY "
            "(or ABIS_DEV=true to generate a development key)"
        )
    if not path.exists():
        if not settings.dev:
            raise ConfigurationError(f"master key file {path} does not exist")
        generate_key_file(path)
    if path.stat().st_mode & 0o077:
        raise ConfigurationError(f"master key file {path} is readable by others: chmod 600 it")
    is_dev = settings.dev and settings.master_key_file is None
    return MasterKey(_decode(path.read_bytes(), f"master key file {path}"), is_dev=is_dev)
