"""The wire encoding of template vectors: base64 of little-endian float32."""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence


def encode_template(values: Sequence[float] | bytes) -> str:
    """Base64 of little-endian float32; `bytes` are taken as already little-endian float32."""
    raw = values if isinstance(values, bytes) else struct.pack(f"<{len(values)}f", *values)
    return base64.b64encode(raw).decode("ascii")
