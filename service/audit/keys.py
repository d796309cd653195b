"""The audit keys, separate from the data master key: an Ed25519 key signs checkpoints, and an
HMAC key derived from it (HKDF) fingerprints probes and client addresses.

Fails closed like the master key: outside dev mode a key file must be configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.errors import ConfigurationError
from service.settings import Settings


@dataclass(frozen=True)
class AuditKeys:
    signing_key: Ed25519PrivateKey = field(repr=False)
    hmac_key: bytes = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def public_key_hex(self) -> str:
        return public_key_hex(self.public_key)

    def fingerprint(self, data: bytes) -> str:
        """A keyed hash: proves what was seen without storing it, and resists guessing."""
        return hmac.new(self.hmac_key, data, hashlib.sha256).hexdigest()


def public_key_hex(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def keys_from_seed(seed: bytes) -> AuditKeys:
    hmac_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"abis audit hmac").derive(seed)
    return AuditKeys(Ed25519PrivateKey.from_private_bytes(seed), hmac_key)


def generate_audit_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(os.urandom(32)) + b"\n")


def load_audit_keys(settings: Settings) -> AuditKeys:
    path = settings.effective_audit_key_file
    if settings.audit_key_file is None and not settings.dev:
        raise ConfigurationError(
            "no audit signing key: set ABIS_AUDIT_KEY_FILE (or ABIS_DEV=true for a dev key)"
        )
    if not path.exists():
        if not settings.dev:
            raise ConfigurationError(f"audit key file {path} does not exist")
        generate_audit_key_file(path)
    if path.stat().st_mode & 0o077:
        raise ConfigurationError(f"audit key file {path} is readable by others: chmod 600 it")
    try:
        seed = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"audit key file {path} is not base64") from None
    if len(seed) != 32 or len(set(seed)) < 8:
        raise ConfigurationError(f"audit key file {path} must hold 32 random bytes")
    return keys_from_seed(seed)
