"""Thresholds that hold a target FPIR at a gallery size, from the gallery's own impostor scores.

FPIR(N, T) = 1 - (1 - FMR(T))^N: at a fixed threshold false positives grow with the gallery, so
the threshold must rise with it. FMR(T) is modelled from exact impostor scores of the gallery
itself: `probes` sampled entries are searched (exactly) against a disjoint sample of
`reference` entries, and the probit tail of their top-`listed` lists is fitted
(`service.scores.metrics.impostor_tail`); the threshold for a target FPIR at size N is where
that model gives FMR = 1 - (1 - FPIR)^(1/N). The face threshold comes from face-only probes the
same way. A candidate that is a hit at the thresholds in force is taken for the same person
(the service links such datasets) and left out of the impostor scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

import matcher
from service.scores.metrics import ImpostorTail, impostor_tail

_EVERYONE = matcher.Eligibility(groups=frozenset(range(256)))
_NO_THRESHOLD = -4.0
_NO_THRESHOLD_Z = -40.0
_BATCH = 64


class CalibrationError(Exception):
    """The gallery is too small or too uniform to fit an impostor model; the message says why."""


@dataclass(frozen=True, slots=True)
class Calibration:
    target_fpir: float
    gallery_size: int
    finger_threshold: float
    face_threshold: float
    finger_tail: ImpostorTail
    face_tail: ImpostorTail
    probes: int
    reference: int

    def as_dict(self) -> dict[str, float | int]:
        return {"target_fpir": self.target_fpir, "gallery_size": self.gallery_size,
                "finger_threshold": round(self.finger_threshold, 4),
                "face_threshold": round(self.face_threshold, 4),
                "probes": self.probes, "reference": self.reference,
                "finger_probit_slope": round(self.finger_tail.slope, 3),
                "face_probit_slope": round(self.face_tail.slope, 3)}


class Sample(Protocol):
    """Where the calibration sample is read: the gallery in this process, or the store
    (service.gallery.store_sample, for a gallery in shard servers)."""

    def ids(self) -> npt.NDArray[np.int64]: ...

    def templates(self, ids: Sequence[int]) -> Mapping[int, matcher.Templates]: ...


class GallerySample:
    def __init__(self, gallery: matcher.Gallery) -> None:
        self._gallery = gallery

    def ids(self) -> npt.NDArray[np.int64]:
        return self._gallery.entries()[0]

    def templates(self, ids: Sequence[int]) -> Mapping[int, matcher.Templates]:
        gallery = self._gallery
        if gallery.kind is matcher.IndexKind.EXACT:
            return gallery.templates_of(ids)
        if gallery.source is None:
            raise CalibrationError("a fast gallery without a template source cannot be "
                                   "calibrated")
        return gallery.source(ids)


def _search(reference: matcher.Gallery, batch: list[matcher.Templates], listed: int,
            cohort: matcher.Cohort | None) -> list[matcher.SearchOutcome]:
    if cohort is None:
        return reference.search_many(batch, [_EVERYONE] * len(batch),
                                     finger_threshold=_NO_THRESHOLD,
                                     face_threshold=_NO_THRESHOLD, limit=listed)
    # Normalised: z far below any threshold; each probe's top `listed` by raw score are its
    # top by z (the transform is monotone per probe).
    return matcher.search_normalised(reference, cohort, batch, [_EVERYONE] * len(batch),
                                     finger_z=_NO_THRESHOLD_Z, face_threshold=_NO_THRESHOLD,
                                     limit=listed)


def _tail(reference: matcher.Gallery, probes: list[matcher.Templates], listed: int,
          cutoff: float, *, face: bool, cohort: matcher.Cohort | None = None) -> ImpostorTail:
    lists: list[list[float]] = []
    for lo in range(0, len(probes), _BATCH):
        for outcome in _search(reference, probes[lo:lo + _BATCH], listed, cohort):
            lists.append([hit.score for hit in outcome.hits[:listed]
                          if (hit.modality is matcher.Modality.FACE) == face
                          and hit.score < cutoff])
    tail = impostor_tail(lists, len(reference), listed)
    if tail is None:
        raise CalibrationError(f"too few {'face' if face else 'fingerprint'} impostor scores "
                               "to fit a tail model")
    return tail


def calibrate(gallery: matcher.Gallery, target_fpir: float, gallery_size: int | None = None, *,
              probes: int = 1000, reference: int = 20_000, listed: int = 20, seed: int = 0,
              exclude_hits: bool = True, cohort: matcher.Cohort | None = None) -> Calibration:
    """Finger and face thresholds for `target_fpir` at `gallery_size` (default: the gallery's).

    `exclude_hits=False` keeps every score (a synthetic gallery of one dataset per person);
    with a `cohort`, finger scores and the finger threshold are cohort z-scores."""
    return calibrate_sample(GallerySample(gallery), gallery.config, target_fpir, gallery_size,
                            probes=probes, reference=reference, listed=listed, seed=seed,
                            exclude_hits=exclude_hits, cohort=cohort)


def calibrate_sample(sample: Sample, config: matcher.MatcherConfig, target_fpir: float,
                     gallery_size: int | None = None, *, probes: int = 1000,
                     reference: int = 20_000, listed: int = 20, seed: int = 0,
                     exclude_hits: bool = True, cohort: matcher.Cohort | None = None
                     ) -> Calibration:
    """`calibrate` on a sample read from wherever the gallery's templates are; `config`
    holds the thresholds in force (their hits are taken for the same person)."""
    if not 0 < target_fpir < 1:
        raise CalibrationError("the target FPIR must be between 0 and 1")
    ids = sample.ids()
    if ids.size < 2 * listed + 10:
        raise CalibrationError(f"a gallery of {ids.size} entries is too small to calibrate")
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(ids)
    n_probes = min(probes, ids.size // 3)
    probe_ids = chosen[:n_probes].tolist()
    reference_ids = chosen[n_probes:n_probes + reference].tolist()
    exact = matcher.Gallery(config, index=matcher.IndexKind.EXACT)
    held = sample.templates(reference_ids)
    exact.add_many((i, held[i], matcher.EntryMeta(group=0, member_state=0))
                   for i in reference_ids if i in held)
    del held  # the exact reference gallery holds them now
    probe_templates = list(sample.templates(probe_ids).values())
    faces = [matcher.Templates(fingers={}, face=t.face) for t in probe_templates
             if t.face is not None and float(np.linalg.norm(t.face)) > 0]
    finger_cutoff = config.finger_threshold if exclude_hits else np.inf
    face_cutoff = config.face_threshold if exclude_hits else np.inf
    finger_tail = _tail(exact, [t for t in probe_templates if t.fingers], listed,
                        float(finger_cutoff), face=False, cohort=cohort)
    face_tail = _tail(exact, faces, listed, float(face_cutoff), face=True)
    size = gallery_size or int(ids.size)
    return Calibration(target_fpir, size, finger_tail.threshold_for(target_fpir, size),
                       face_tail.threshold_for(target_fpir, size), finger_tail, face_tail,
                       len(probe_templates), len(exact))
