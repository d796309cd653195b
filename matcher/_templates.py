"""Templates in, quality out: validation and the quality rule.

A template's raw L2 norm encodes its capture quality (the MagFace convention), so templates are
transmitted unnormalised; only those whose norm reaches `min_quality` are usable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._config import FINGER_POSITIONS, MatcherConfig
from ._exceptions import TemplateError, TemplateProblem

__all__ = ["QualityReport", "TemplateSource", "Templates", "assess", "validate"]


@dataclass(frozen=True, slots=True)
class Templates:
    """One person's templates as captured: finger position -> RAW vector, and an optional face."""

    fingers: Mapping[int, npt.NDArray[np.float32]]
    face: npt.NDArray[np.float32] | None = None


# Entry ids -> the templates enrolled under them, for those it still holds (the service reads
# and decrypts them from its store). Lets the fast engine score exactly where rounding matters.
TemplateSource = Callable[[Sequence[int]], Mapping[int, Templates]]


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Which templates are usable; the service refuses a transmission that is not searchable."""

    usable_fingers: tuple[int, ...]
    poor_fingers: tuple[int, ...]
    face_usable: bool
    face_poor: bool

    @property
    def searchable(self) -> bool:
        return bool(self.usable_fingers) or self.face_usable


@dataclass(frozen=True, slots=True)
class Shaped:
    """Templates whose keys and shapes are checked, fingers in ascending position order; their
    values (finite, non-zero) are checked by `checked_values`, batched across entries."""

    positions: list[int]
    fingers: list[npt.NDArray[np.generic]]
    face: npt.NDArray[np.generic] | None


def _as_integer(key: object) -> int | None:
    # numpy integers are accepted (keys often come out of arrays); bools are not, although bool
    # is an int subclass: True is not finger position 1.
    if type(key) is int:
        return key
    if isinstance(key, bool | np.bool_) or not isinstance(key, int | np.integer):
        return None
    return int(key)


def _shaped_array(value: object, dim: int, position: int | None) -> npt.NDArray[np.generic]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise TemplateError(
            TemplateProblem.WRONG_SHAPE, position=position, expected="real numbers",
            actual=str(arr.dtype),
        )
    if arr.shape != (dim,):
        raise TemplateError(
            TemplateProblem.WRONG_SHAPE, position=position, expected=(dim,), actual=arr.shape
        )
    return arr


def shaped(templates: Templates, config: MatcherConfig) -> Shaped:
    """Check finger positions and every vector's type and shape (raises TemplateError)."""
    pairs: list[tuple[int, npt.NDArray[np.generic]]] = []
    for key, value in templates.fingers.items():
        position = _as_integer(key)
        if position not in FINGER_POSITIONS:
            raise TemplateError(
                TemplateProblem.UNKNOWN_POSITION,
                position=position,
                expected=f"{FINGER_POSITIONS[0]}..{FINGER_POSITIONS[-1]}",
                actual=key,
            )
        assert position is not None  # for mypy: None is not a finger position
        pairs.append((position, _shaped_array(value, config.finger_dim, position)))
    pairs.sort(key=lambda pair: pair[0])
    face = templates.face
    return Shaped(
        positions=[position for position, _ in pairs],
        fingers=[arr for _, arr in pairs],
        face=None if face is None else _shaped_array(face, config.face_dim, None),
    )


def checked_values(
    rows: npt.NDArray[np.generic], positions: Sequence[int | None]
) -> tuple[npt.NDArray[np.float32], int, TemplateError | None]:
    """Cast to float32 and check every row is finite and non-zero, all rows at once (per-row
    numpy calls dominated the cost of a bulk load).

    Returns the float32 rows, the index of the first bad row (len(rows) if none) and its error;
    `positions[i]` is row i's finger position, None for a face.
    """
    # Checked after the cast: a float64 value beyond float32's range becomes inf here, and
    # float32 is what gets stored and compared.
    with np.errstate(over="ignore"):
        vectors = rows.astype(np.float32, copy=False)
    bad = np.asarray(~np.isfinite(vectors).all(axis=1), dtype=np.bool_)
    zero = np.asarray(~vectors.any(axis=1), dtype=np.bool_)
    if not (bad.any() or zero.any()):
        return vectors, len(rows), None
    first = int(np.argmax(bad | zero))
    if bad[first]:
        error = TemplateError(
            TemplateProblem.NON_FINITE, position=positions[first], expected="finite values",
            actual="NaN or infinity",
        )
    else:
        error = TemplateError(
            TemplateProblem.ZERO_VECTOR, position=positions[first], expected="a non-zero vector",
            actual="all zeros",
        )
    return vectors, first, error


def norms(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Row L2 norms in float64, so that the quality decision does not depend on summation order."""
    wide = vectors.astype(np.float64)
    squares: npt.NDArray[np.float64] = np.einsum("ij,ij->i", wide, wide)
    return np.sqrt(squares)


def _rows(parts: Shaped, dim: int) -> tuple[npt.NDArray[np.generic], list[int | None]]:
    stacked = np.stack(parts.fingers) if parts.fingers else np.zeros((0, dim), np.float32)
    return stacked, list(parts.positions)


def _checked(
    templates: Templates, config: MatcherConfig
) -> tuple[list[int], npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    parts = shaped(templates, config)
    rows, positions = _rows(parts, config.finger_dim)
    fingers, _, error = checked_values(rows, positions)
    if error is not None:
        raise error
    face = None
    if parts.face is not None:
        faces, _, error = checked_values(parts.face[None, :], [None])
        if error is not None:
            raise error
        face = faces[0]
    return parts.positions, fingers, face


def validate(templates: Templates, config: MatcherConfig) -> None:
    """Raise TemplateError for an unknown position, a wrong shape, NaN/inf or an all-zero vector."""
    _checked(templates, config)


def _plausible(vectors: npt.NDArray[np.float32], row_norms: npt.NDArray[np.float64],
               positions: Sequence[int | None], config: MatcherConfig) -> None:
    """Refuse what no capture produces: a norm beyond the ceiling, or values so nearly
    constant (std / rms below `min_spread`) that the vector says nothing about anyone."""
    wide = vectors.astype(np.float64)
    rms = row_norms / np.sqrt(vectors.shape[1])
    spread = np.divide(wide.std(axis=1), rms, out=np.zeros_like(rms), where=rms > 0)
    for row, position in enumerate(positions):
        if row_norms[row] > config.max_norm:
            raise TemplateError(TemplateProblem.NORM_TOO_LARGE, position=position,
                                expected=f"a norm of at most {config.max_norm:g}",
                                actual=f"{row_norms[row]:.3g}")
        if spread[row] < config.min_spread:
            raise TemplateError(TemplateProblem.NO_INFORMATION, position=position,
                                expected=f"values spread at least {config.min_spread:g} of "
                                         "their rms", actual=f"{spread[row]:.3g}")


def assess(templates: Templates, config: MatcherConfig) -> QualityReport:
    """Split present templates into usable and poor by their raw norm (raises TemplateError
    also for implausible ones: see `_plausible`). Run on every template at the door; stored
    ones are not re-judged, so a stricter ceiling never stops an old gallery loading."""
    positions, fingers, face = _checked(templates, config)
    finger_norms = norms(fingers)
    _plausible(fingers, finger_norms, positions, config)
    if face is not None:
        _plausible(face[None, :], norms(face[None, :]), [None], config)
    usable = (finger_norms >= config.min_quality).tolist()
    face_usable = face is not None and bool(norms(face[None, :])[0] >= config.min_quality)
    return QualityReport(
        usable_fingers=tuple(p for p, ok in zip(positions, usable, strict=True) if ok),
        poor_fingers=tuple(p for p, ok in zip(positions, usable, strict=True) if not ok),
        face_usable=face_usable,
        face_poor=face is not None and not face_usable,
    )
