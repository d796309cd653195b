"""The normalised form of templates, laid out for the flat inner-product indexes, in batches.

Fingers become one vector of 10 x finger_dim: each usable position L2-normalised in its slot,
zeros elsewhere, so the inner product of two such vectors is exactly the sum of cosines over the
positions usable in both. Work is done on whole batches (a bulk load prepares 100k entries):
per entry only the Python-level key and shape checks run; values, norms and normalisation are
numpy operations over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ._config import FINGER_POSITIONS, MatcherConfig
from ._exceptions import TemplateError
from ._templates import Shaped, Templates, checked_values, norms, shaped

_N_POSITIONS = len(FINGER_POSITIONS)

# Number of fingers in a 10-bit position mask (bit p-1 set iff position p is usable): the |C| of
# the scoring rule is FINGER_COUNT[probe_mask & entry_mask].
FINGER_COUNT: npt.NDArray[np.uint8] = np.array(
    [bin(m).count("1") for m in range(1 << _N_POSITIONS)], dtype=np.uint8
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One entry or probe, prepared; `face` is None unless a usable face is present."""

    fingers: npt.NDArray[np.float32] = field(repr=False)
    finger_mask: int
    face: npt.NDArray[np.float32] | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    fingers: npt.NDArray[np.float32]  # (n, 10 * finger_dim)
    finger_masks: npt.NDArray[np.uint16]  # (n,)
    faces: npt.NDArray[np.float32]  # (k, face_dim): the usable faces
    face_owners: npt.NDArray[np.intp]  # (k,): which item each face belongs to

    def __len__(self) -> int:
        return len(self.fingers)

    def head(self, n: int) -> PreparedBatch:
        """The first n items."""
        kept = self.face_owners < n
        return PreparedBatch(
            self.fingers[:n], self.finger_masks[:n], self.faces[kept], self.face_owners[kept]
        )

    def take(self, rows: Sequence[int]) -> PreparedBatch:
        """The items at `rows` (ascending), in that order: the part of a batch prepared once
        that one search or one add needs."""
        picked = np.asarray(rows, dtype=np.intp)
        if picked.size > 1 and not (np.diff(picked) > 0).all():
            raise ValueError("rows must be ascending and distinct")
        new_index = np.full(len(self), -1, dtype=np.intp)
        new_index[picked] = np.arange(picked.size)
        kept = new_index[self.face_owners] >= 0
        return PreparedBatch(self.fingers[picked], self.finger_masks[picked], self.faces[kept],
                             new_index[self.face_owners[kept]])

    def items(self) -> list[Prepared]:
        faces: list[npt.NDArray[np.float32] | None] = [None] * len(self)
        for owner, face in zip(self.face_owners.tolist(), self.faces, strict=True):
            faces[owner] = face
        return [
            Prepared(fingers=vector, finger_mask=mask, face=face)
            for vector, mask, face in zip(
                self.fingers, self.finger_masks.tolist(), faces, strict=True
            )
        ]


def prepare_prefix(
    batch: Sequence[Templates], config: MatcherConfig
) -> tuple[PreparedBatch, TemplateError | None]:
    """Prepare the longest valid prefix of `batch`; the error is the first item's that is not
    valid (None if all are), so a caller can act exactly as if it handled items one by one."""
    parts: list[Shaped] = []
    error: TemplateError | None = None
    for templates in batch:
        try:
            parts.append(shaped(templates, config))
        except TemplateError as exc:
            error = exc
            break

    finger_owner = [i for i, p in enumerate(parts) for _ in p.positions]
    positions = [position for p in parts for position in p.positions]
    face_owner = [i for i, p in enumerate(parts) if p.face is not None]
    finger_rows, bad_finger, finger_error = checked_values(
        _stack([arr for p in parts for arr in p.fingers], config.finger_dim), positions
    )
    face_rows, bad_face, face_error = checked_values(
        _stack([p.face for p in parts if p.face is not None], config.face_dim),
        [None] * len(face_owner),
    )
    # The first bad item wins; within one item its fingers are checked before its face.
    valid = len(parts)
    if finger_error is not None:
        valid, error = finger_owner[bad_finger], finger_error
    if face_error is not None and face_owner[bad_face] < valid:
        valid, error = face_owner[bad_face], face_error

    owners = np.asarray(finger_owner, dtype=np.intp)
    slots = np.asarray(positions, dtype=np.intp) - 1
    finger_norms = norms(finger_rows)
    usable = (owners < valid) & (finger_norms >= config.min_quality)
    fingers = np.zeros((valid, _N_POSITIONS, config.finger_dim), dtype=np.float32)
    fingers[owners[usable], slots[usable]] = finger_rows[usable] / finger_norms[usable, None]
    masks = np.zeros(valid, dtype=np.uint16)
    np.bitwise_or.at(masks, owners[usable], (1 << slots[usable]).astype(np.uint16))

    face_owners = np.asarray(face_owner, dtype=np.intp)
    face_norms = norms(face_rows)
    face_usable = (face_owners < valid) & (face_norms >= config.min_quality)
    faces = (face_rows[face_usable] / face_norms[face_usable, None]).astype(np.float32)
    prepared = PreparedBatch(
        fingers=fingers.reshape(valid, _N_POSITIONS * config.finger_dim),
        finger_masks=masks,
        faces=faces,
        face_owners=face_owners[face_usable],
    )
    return prepared, error


def _stack(arrays: list[npt.NDArray[np.generic]], dim: int) -> npt.NDArray[np.generic]:
    return np.stack(arrays) if arrays else np.zeros((0, dim), dtype=np.float32)


def prepare_batch(batch: Sequence[Templates], config: MatcherConfig) -> PreparedBatch:
    """Validate, drop unusable templates and normalise a whole batch (raises the first item's
    TemplateError): done once, it serves several searches and adds of the same templates."""
    prepared, error = prepare_prefix(batch, config)
    if error is not None:
        raise error
    return prepared


def prepare(templates: Templates, config: MatcherConfig) -> Prepared:
    """Validate, drop unusable templates and normalise the rest (raises TemplateError)."""
    return prepare_batch([templates], config).items()[0]
