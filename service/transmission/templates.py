"""Wire and stored template bytes to matcher templates."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

import matcher
from schemas.transmission import Biometrics
from service.errors import InvalidInput, InvalidTemplate

_POSITIONS = {str(position): position for position in matcher.FINGER_POSITIONS}


def vector(raw: bytes) -> npt.NDArray[np.float32]:
    """Little-endian float32 bytes as a native float32 array (copied: buffers may be unaligned)."""
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _decode_base64(text: str, what: str, dim: int) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTemplate(f"{what}: not valid base64", template=what) from None
    if len(raw) != dim * 4:
        raise InvalidTemplate(
            f"{what}: expected {dim} float32 values ({dim * 4} bytes), got {len(raw)} bytes",
            template=what,
        )
    return raw


def decode_biometrics(
    biometrics: Biometrics, config: matcher.MatcherConfig
) -> tuple[dict[int, bytes], bytes | None]:
    """Raw little-endian bytes per finger position and of the face, checked for size."""
    fingers: dict[int, bytes] = {}
    for key, text in biometrics.fingers.items():
        position = _POSITIONS.get(key)
        if position is None:
            # The key is not echoed: a caller's made-up text never comes back (docs/security.md).
            raise InvalidTemplate('a key of "fingers" is not a finger position "1".."10"',
                                  template="fingers")
        fingers[position] = _decode_base64(text, f"fingers.{key}", config.finger_dim)
    face = None
    if biometrics.face is not None:
        face = _decode_base64(biometrics.face, "face", config.face_dim)
    if not fingers and face is None:
        raise InvalidInput("the transmission carries no biometric data")
    return fingers, face


def to_templates(fingers: Mapping[int, bytes], face: bytes | None) -> matcher.Templates:
    return matcher.Templates(
        fingers={position: vector(raw) for position, raw in fingers.items()},
        face=None if face is None else vector(face),
    )


def checked_templates(
    fingers: Mapping[int, bytes], face: bytes | None, config: matcher.MatcherConfig
) -> tuple[matcher.Templates, matcher.QualityReport]:
    """Templates that the matcher accepts (finite, non-zero, right dimension) and their quality.

    `matcher.assess` validates as it assesses, so one call serves both.
    """
    templates = to_templates(fingers, face)
    try:
        return templates, matcher.assess(templates, config)
    except matcher.TemplateError as error:
        raise InvalidTemplate(str(error), template=_template_name(error)) from None


def _template_name(error: matcher.TemplateError) -> str:
    position = getattr(error, "position", None)
    return "face" if position is None else f"fingers.{position}"
