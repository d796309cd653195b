"""The evaluation search: a probe's top candidates whatever their score, for accuracy figures.

A transmission reveals only hits at or above the decision threshold (Art 27(4)); measuring
false non-identification and false positive rates needs the scores below it as well. This is
for operators evaluating the matcher on synthetic galleries: it stores nothing, and compares
with every stored dataset of every Member State.

It exists only in a synthetic deployment (ABIS_SYNTHETIC_DEPLOYMENT, refused in production
mode), and even there it reveals no more than the rules let the caller see (docs/security.md):
a Member State's operator sees its own datasets whatever their score (Art 40) and another
Member State's only where a transmission would have revealed it, as a hit at or above the
threshold; only the EU-level operator, who runs the central matcher, sees every candidate.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from schemas.codes import EU_LEVEL, Modality
from schemas.evaluation import (
    EvaluationAnswer,
    EvaluationCandidate,
    EvaluationProbeResult,
    EvaluationSearch,
)
from service.auth import Caller
from service.matcher_settings import matcher_config
from service.rules.categories import GROUP_ADMITTED, GROUP_REFUSED, RULES
from service.settings import Settings
from service.store.models import DatasetRow
from service.transmission.templates import checked_templates, decode_biometrics
from service.writer.gallery import WriterGallery

EVERY_STORED_GROUP = matcher.Eligibility(
    groups=frozenset({rule.group for rule in RULES.values() if rule.group is not None}
                     | {GROUP_ADMITTED, GROUP_REFUSED})
)
# Below any fused score (at least -sqrt(10)), face cosine or cohort z-score (with
# ABIS_SCORE_NORMALISATION=cohort the finger threshold is a z): the top `limit` are returned.
_NO_THRESHOLD = -1e6


class Searching(Protocol):
    """What the evaluation search uses of a running service (a `Runtime` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def gallery(self) -> WriterGallery: ...


def _references(runtime: Searching, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each entry's reference number and Member State."""
    found: dict[int, tuple[str, str]] = {}
    ordered = sorted(ids)
    with runtime.sessions() as session:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = session.execute(
                select(DatasetRow.id, DatasetRow.reference_number, DatasetRow.member_state)
                .where(DatasetRow.id.in_(chunk))
            )
            found.update({row_id: (reference, state) for row_id, reference, state in rows})
    return found


def _gallery_size(runtime: Searching, caller: Caller) -> int:
    """The gallery a caller may count: all of it at EU level, else its own datasets."""
    if caller.member_state == EU_LEVEL:
        return len(runtime.gallery)
    with runtime.sessions() as session:
        counted = session.scalar(select(func.count()).select_from(DatasetRow)
                                 .where(DatasetRow.member_state == caller.member_state))
    return int(counted or 0)


def _visible(caller: Caller, member_state: str, hit: matcher.Hit,
             config: matcher.MatcherConfig) -> bool:
    if caller.member_state in (EU_LEVEL, member_state):
        return True
    threshold = config.finger_threshold if hit.fingers_compared else config.face_threshold
    return hit.score >= threshold  # what a transmission would reveal as a hit (Art 27(4))


def _search(runtime: Searching, body: EvaluationSearch, caller: Caller) -> EvaluationAnswer:
    config = matcher_config(runtime.settings)
    probes = []
    for probe in body.probes:
        fingers, face = decode_biometrics(probe.biometrics, config)
        probes.append(checked_templates(fingers, face, config)[0])
    outcomes = runtime.gallery.search(
        probes,
        [EVERY_STORED_GROUP] * len(probes),
        finger_threshold=_NO_THRESHOLD,
        face_threshold=_NO_THRESHOLD,
        limit=body.limit,
    ).outcomes
    references = _references(runtime, {hit.entry_id for o in outcomes for hit in o.hits})
    return EvaluationAnswer(
        gallery_size=_gallery_size(runtime, caller),
        results=[
            EvaluationProbeResult(
                probe_id=probe.probe_id,
                candidates=[
                    EvaluationCandidate(
                        reference_number=references[hit.entry_id][0],
                        score=round(hit.score, 6),
                        modality=Modality(hit.modality.value),
                        fingers_compared=hit.fingers_compared,
                    )
                    for hit in outcome.hits
                    if hit.entry_id in references  # erased since the search
                    and _visible(caller, references[hit.entry_id][1], hit, config)
                ],
            )
            for probe, outcome in zip(body.probes, outcomes, strict=True)
        ],
    )


async def evaluation_search(runtime: Searching, body: EvaluationSearch, caller: Caller
                            ) -> EvaluationAnswer:
    # Only in a synthetic deployment: the access table (service.auth.policy) refuses it else.
    return await asyncio.to_thread(_search, runtime, body, caller)
