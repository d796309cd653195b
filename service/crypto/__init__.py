"""Encryption at rest: per-dataset data keys (AES-256-GCM) wrapped by a master key."""

from service.crypto.envelope import Sealed, open_sealed, seal
from service.crypto.master_key import MasterKey, load_master_key

__all__ = ["MasterKey", "Sealed", "load_master_key", "open_sealed", "seal"]
