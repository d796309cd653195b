"""Envelope encryption of one dataset: a fresh AES-256-GCM data key, wrapped by the master key.

The dataset's identity is the associated data, so a ciphertext moved to another row fails to
open. Destroying the wrapped data key makes the dataset unrecoverable (crypto-shredding).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.crypto.master_key import MasterKey

_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class Sealed:
    wrapped_key: bytes
    key_id: str
    nonce: bytes
    ciphertext: bytes


def seal(master: MasterKey, associated_data: bytes, plaintext: bytes) -> Sealed:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, associated_data)
    return Sealed(master.wrap(data_key), master.key_id, nonce, ciphertext)


def open_sealed(master: MasterKey, associated_data: bytes, sealed: Sealed) -> bytes:
    """The plaintext; raises `cryptography.exceptions.InvalidTag` when anything was altered."""
    data_key = master.unwrap(sealed.wrapped_key, sealed.key_id)
    return AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, associated_data)
