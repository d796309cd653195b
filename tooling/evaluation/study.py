"""The accuracy study of a synthetic profile, in process: the service's matcher, fusion and
decision rule on a vectorised synthetic gallery, searched exactly.

Per ISO/IEC 19795-1, every probe is taken once: a probe the quality gate refuses is a
*failure to acquire* (FTA), counted and reported, never retried; an enrolment it refuses is a
*failure to enrol* (FTE), and that person's mated probe a search without a stored mate.
Each search returns its top `listed` candidates whatever their score, with the modality the
service's rule used for each pair (fingerprints when a usable finger is shared, else the face).
A second, face-only search of each probe (fingers removed) measures the face apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

import matcher
from tooling.bench.population import gallery as population_gallery
from tooling.bench.population import non_mated as population_non_mated
from tooling.synth.captures import CaptureModel

EVERYONE = matcher.Eligibility(groups=frozenset(range(6)))
# Candidates below these scores are not listed: far below any operating threshold (3.4
# impostor standard deviations of the isotropic profiles), they would only slow the exact scan
# (every pair kept and ranked). Lists are complete above them, and the tail fit knows it.
FINGER_FLOOR = 0.3
FACE_FLOOR = 0.15
# With cohort normalisation finger scores are z-scores (impostor sd 1 per probe); the floor is
# the same few standard deviations as FINGER_FLOOR is for the isotropic profiles.
FINGER_FLOOR_Z = 3.0
COHORT_SIZE = 1000
_BATCH = 64
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Candidate:
    score: float
    face: bool  # compared by face (no usable finger shared)
    mate: bool


@dataclass
class Searches:
    """One modality view of the searches: per search, its candidates best first."""

    mated: list[list[Candidate]] = field(default_factory=list)
    non_mated: list[list[Candidate]] = field(default_factory=list)


@dataclass
class StudyData:
    gallery_size: int
    listed: int
    complete_lists: bool  # exact search: every list holds the true top `listed`
    enrolment_attempts: int
    failures_to_enrol: int
    mated_attempts: int
    non_mated_attempts: int
    fta_mated: int = 0
    fta_non_mated: int = 0
    mate_not_enrolled: int = 0
    combined: Searches = field(default_factory=Searches)  # the service's rule
    finger_findable: list[bool] = field(default_factory=list)  # per mated combined search
    face: Searches = field(default_factory=Searches)  # face-only probes
    face_findable: list[bool] = field(default_factory=list)  # per mated face-only search
    gallery: matcher.Gallery | None = None  # the enrolled gallery, for calibration
    cohort: matcher.Cohort | None = None  # finger scores are cohort z-scores when set
    entry_norms: matcher.EntryNorms | None = None  # ... s-norm scores when set (with cohort)
    finger_floor: float = FINGER_FLOOR  # lists are complete above it


def draw_cohort(gallery: matcher.Gallery, size: int, seed: int) -> matcher.Cohort:
    """A cohort of `size` entries drawn from the gallery (matcher.Cohort)."""
    ids, _ = gallery.entries()
    chosen = np.random.default_rng([seed, 23]).choice(ids, size=min(size, ids.size),
                                                       replace=False)
    held = gallery.templates_of(chosen.tolist())
    return matcher.Cohort(gallery.config, [held[i] for i in sorted(held)])


def entry_norms(gallery: matcher.Gallery, cohort: matcher.Cohort, progress: Progress
                ) -> matcher.EntryNorms:
    """Every gallery entry's cohort statistics (s-norm's gallery side). The service would
    compute them at enrolment; here the cohort is drawn from the enrolled gallery, so they are
    computed once it is drawn."""
    norms = matcher.EntryNorms(cohort)
    ids, _ = gallery.entries()
    chunk = 2_000
    for lo in range(0, ids.size, chunk):
        held = gallery.templates_of(ids[lo:lo + chunk].tolist())
        norms.add_many((i, held[i]) for i in sorted(held))
        progress(f"entry statistics: {min(lo + chunk, ids.size):,}/{ids.size:,}")
    return norms


def usable(templates: matcher.Templates, config: matcher.MatcherConfig) -> bool:
    """What the quality gate lets in (as `tooling.evaluation.local.usable_templates`)."""
    report = matcher.assess(templates, config)
    return not ((templates.fingers and not report.usable_fingers) or not report.searchable)


def _finger_mask(templates: matcher.Templates, config: matcher.MatcherConfig) -> int:
    return sum(1 << (p - 1) for p, v in templates.fingers.items()
               if float(np.linalg.norm(v)) >= config.min_quality)


def _face_only(templates: matcher.Templates, config: matcher.MatcherConfig
               ) -> matcher.Templates | None:
    face = templates.face
    if face is None or float(np.linalg.norm(face)) < config.min_quality:
        return None
    return matcher.Templates(fingers={}, face=face)


def _search(gallery: matcher.Gallery, probes: Sequence[matcher.Templates], mates: Sequence[int],
            listed: int, progress: Progress, label: str, cohort: matcher.Cohort | None = None,
            norms: matcher.EntryNorms | None = None) -> list[list[Candidate]]:
    found: list[list[Candidate]] = []
    for lo in range(0, len(probes), _BATCH):
        batch = list(probes[lo:lo + _BATCH])
        if norms is not None:  # symmetric: per-pair thresholds (matcher.search_symmetric)
            outcomes = matcher.search_symmetric(gallery, norms, batch, [EVERYONE] * len(batch),
                                                finger_threshold=FINGER_FLOOR_Z,
                                                face_threshold=FACE_FLOOR)
        elif cohort is None:
            outcomes = gallery.search_many(batch, [EVERYONE] * len(batch),
                                           finger_threshold=FINGER_FLOOR,
                                           face_threshold=FACE_FLOOR)
        else:  # the service's normalised rule, the same code (matcher.search_normalised)
            outcomes = matcher.search_normalised(gallery, cohort, batch,
                                                 [EVERYONE] * len(batch),
                                                 finger_z=FINGER_FLOOR_Z,
                                                 face_threshold=FACE_FLOOR)
        for outcome, mate in zip(outcomes, mates[lo:lo + _BATCH], strict=True):
            # Every candidate above the floors comes back (the matcher's ranked top-k path is
            # slower than its threshold scan); the best `listed` are kept.
            found.append([Candidate(hit.score, hit.modality is matcher.Modality.FACE,
                                    hit.entry_id == mate) for hit in outcome.hits[:listed]])
        if (lo // _BATCH) % 20 == 0:
            progress(f"{label}: {min(lo + _BATCH, len(probes)):,}/{len(probes):,} searches")
    return found


def run_study(model: CaptureModel, config: matcher.MatcherConfig, *, gallery_size: int,
              mated: int, non_mated: int, listed: int, seed: int, progress: Progress,
              normalise: bool = False, symmetric: bool = False) -> StudyData:
    """Enrol `gallery_size` persons, search `mated` second captures of enrolled persons and
    `non_mated` captures of persons never enrolled; every search exact. `normalise`: finger
    scores are cohort z-scores (matcher.Cohort, drawn from the gallery); `symmetric`: s-norm
    scores (matcher.search_symmetric, the same cohort on both sides)."""
    rng = np.random.default_rng([seed, gallery_size, 17])
    mated_rows = np.sort(rng.choice(gallery_size, size=min(mated, gallery_size),
                                    replace=False)).astype(np.int64)
    gallery = matcher.Gallery(config, index=matcher.IndexKind.EXACT)
    masks: dict[int, int] = {}
    faces: set[int] = set()  # enrolled with a usable face
    enrolled: set[int] = set()
    refused = 0
    mated_probes: list[matcher.Templates] = []
    for chunk, probes in population_gallery(seed, gallery_size, model, mated_rows):
        keep = []
        for entry, templates, meta in zip(chunk.ids, chunk.templates, chunk.metas, strict=True):
            if usable(templates, config):
                keep.append((entry, templates, meta))
                enrolled.add(entry)
                masks[entry] = _finger_mask(templates, config)
                if _face_only(templates, config) is not None:
                    faces.add(entry)
            else:
                refused += 1
        gallery.add_many(keep)
        mated_probes += probes
        progress(f"enrolled {chunk.ids[-1] + 1:,}/{gallery_size:,}")
    data = StudyData(len(gallery), listed, True, gallery_size, refused, len(mated_probes),
                     non_mated, gallery=gallery)
    if normalise or symmetric:
        cohort = draw_cohort(gallery, COHORT_SIZE, seed)
        data.cohort = cohort
        data.finger_floor = FINGER_FLOOR_Z
        if symmetric:
            data.entry_norms = entry_norms(gallery, cohort, progress)
    searched: list[matcher.Templates] = []
    mates: list[int] = []
    for probe, person in zip(mated_probes, mated_rows.tolist(), strict=True):
        if not usable(probe, config):
            data.fta_mated += 1
        elif person not in enrolled:
            data.mate_not_enrolled += 1
        else:
            searched.append(probe)
            mates.append(person)
            data.finger_findable.append(bool(_finger_mask(probe, config) & masks[person]))
    n_mated = len(searched)
    for probe in population_non_mated(seed, non_mated, model):
        if usable(probe, config):
            searched.append(probe)
            mates.append(-1)
        else:
            data.fta_non_mated += 1
    found = _search(gallery, searched, mates, listed, progress, "searches", data.cohort,
                    data.entry_norms)
    data.combined = Searches(found[:n_mated], found[n_mated:])
    face_probes = [(_face_only(t, config), m) for t, m in zip(searched, mates, strict=True)]
    face_mated = [(p, m) for p, m in face_probes[:n_mated] if p is not None]
    face_non = [(p, m) for p, m in face_probes[n_mated:] if p is not None]
    with_face = [p for p, _ in face_mated + face_non]
    face_found = _search(gallery, with_face, [m for _, m in face_mated + face_non], listed,
                         progress, "face-only searches", data.cohort, data.entry_norms)
    data.face = Searches(face_found[:len(face_mated)], face_found[len(face_mated):])
    data.face_findable = [mate in faces for _, mate in face_mated]
    return data


def mate_score(candidates: Sequence[Candidate], *, face: bool | None = None) -> float:
    """The best mate score (of one modality if `face` is given); -inf when none is listed."""
    return max((c.score for c in candidates if c.mate and (face is None or c.face == face)),
               default=-math.inf)


def top_score(candidates: Sequence[Candidate], *, face: bool) -> float:
    return max((c.score for c in candidates if c.face == face), default=-math.inf)


def scores_of(candidates: Sequence[Candidate], *, face: bool) -> list[float]:
    return [c.score for c in candidates if c.face == face]


def decided(candidates: Sequence[Candidate], finger_threshold: float, face_threshold: float
            ) -> tuple[bool, bool, bool]:
    """(any hit, a mate among the hits, the mate found by face only) under the service's rule."""
    hits = [c for c in candidates
            if c.score >= (face_threshold if c.face else finger_threshold)]
    mate_hits = [c for c in hits if c.mate]
    return bool(hits), bool(mate_hits), bool(mate_hits) and all(c.face for c in mate_hits)


def mated_arrays(data: StudyData) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per mated combined search: best fingerprint mate score, and whether it is findable."""
    return (np.array([mate_score(c, face=False) for c in data.combined.mated]),
            np.array(data.finger_findable, dtype=np.bool_))
