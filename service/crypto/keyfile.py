"""Secret key files: 32 random bytes, base64, readable by their owner only; never defaulted.

Fails closed: outside dev mode a file must be configured and exist; an obvious placeholder
("changeme", all bytes alike...), a wrong length or loose permissions stop the service.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from service.errors import ConfigurationError

KEY_BYTES = 32
_PLACEHOLDERS = {b"changeme", b"change-me", b"secret", b"password", b"dev", b"test"}


def decode_secret(text: bytes, origin: str) -> bytes:
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


def generate_secret_file(path: Path) -> None:
    """Write a fresh random key, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")


def read_secret_file(path: Path, *, configured: bool, dev: bool, what: str, setting: str
                     ) -> bytes:
    """The key in `path`; in dev mode an unconfigured key is generated there first."""
    if not configured and not dev:
        raise ConfigurationError(
            f"no {what}: set {setting} (or ABIS_DEV=true to generate a development key)"
        )
    if not path.exists():
        if not dev:
            raise ConfigurationError(f"{what} file {path} does not exist")
        generate_secret_file(path)
    if path.stat().st_mode & 0o077:
        raise ConfigurationError(f"{what} file {path} is readable by others: chmod 600 it")
    return decode_secret(path.read_bytes(), f"{what} file {path}")
