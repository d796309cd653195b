"""The audit keys, separate from the data master key: an Ed25519 key signs checkpoints, and an
HMAC key derived from it (HKDF) fingerprints probes and client addresses. The seed is read like
every secret key file (`service.crypto.keyfile`): fail closed, never defaulted.

Rotation (`abis keys rotate-audit`): new checkpoints are signed by the new key; the public keys
of retired ones (ABIS_AUDIT_TRUSTED_PUBLIC_KEYS) keep verifying the checkpoints they signed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.crypto.keyfile import generate_secret_file, read_secret_file
from service.errors import ConfigurationError
from service.settings import Settings


@dataclass(frozen=True)
class AuditKeys:
    signing_key: Ed25519PrivateKey = field(repr=False)
    hmac_key: bytes = field(repr=False)
    retired_public_keys: tuple[Ed25519PublicKey, ...] = ()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def trusted_public_keys(self) -> tuple[Ed25519PublicKey, ...]:
        """The keys whose checkpoint signatures verify: the current and the retired ones."""
        return (self.public_key, *self.retired_public_keys)

    @property
    def public_key_hex(self) -> str:
        return public_key_hex(self.public_key)

    def fingerprint(self, data: bytes) -> str:
        """A keyed hash: proves what was seen without storing it, and resists guessing."""
        return hmac.new(self.hmac_key, data, hashlib.sha256).hexdigest()


def public_key_hex(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    """ValueError unless `text` is 64 hex digits of an Ed25519 public key."""
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))


def keys_from_seed(seed: bytes, retired: tuple[Ed25519PublicKey, ...] = ()) -> AuditKeys:
    hmac_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"abis audit hmac").derive(seed)
    return AuditKeys(Ed25519PrivateKey.from_private_bytes(seed), hmac_key, retired)


generate_audit_key_file = generate_secret_file  # the name tests and tools know


def load_audit_keys(settings: Settings) -> AuditKeys:
    seed = read_secret_file(
        settings.effective_audit_key_file,
        configured=settings.audit_key_file is not None,
        dev=settings.dev,
        what="audit signing key",
        setting="ABIS_AUDIT_KEY_FILE",
    )
    return keys_from_seed(seed, trusted_public_keys(settings.audit_trusted_public_keys))


def trusted_public_keys(listed: str) -> tuple[Ed25519PublicKey, ...]:
    """The comma-separated hex public keys of ABIS_AUDIT_TRUSTED_PUBLIC_KEYS."""
    keys = []
    for part in (part.strip() for part in listed.split(",")):
        if not part:
            continue
        try:
            keys.append(public_key_from_hex(part))
        except ValueError:
            raise ConfigurationError(f"ABIS_AUDIT_TRUSTED_PUBLIC_KEYS: {part[:70]!r} is not an "
                                     "Ed25519 public key (64 hex digits)") from None
    return tuple(keys)
