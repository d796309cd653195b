"""The evaluation search: a probe's top candidates whatever their score, for accuracy figures.

A transmission reveals only hits at or above the decision threshold (Art 27(4)); measuring
false non-identification and false positive rates needs the scores below it as well. This is
for operators evaluating the matcher on synthetic galleries: it stores nothing, and compares
with every stored dataset of every Member State.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

import matcher
from schemas.codes import Modality
from schemas.evaluation import (
    EvaluationAnswer,
    EvaluationCandidate,
    EvaluationProbeResult,
    EvaluationSearch,
)
from service.rules.categories import GROUP_ADMITTED, GROUP_REFUSED, RULES
from service.runtime import Runtime, matcher_config
from service.store.models import DatasetRow
from service.transmission.templates import checked_templates, decode_biometrics

EVERY_STORED_GROUP = matcher.Eligibility(
    groups=frozenset({rule.group for rule in RULES.values() if rule.group is not None}
                     | {GROUP_ADMITTED, GROUP_REFUSED})
)
# Below any fused score (at least -sqrt(10)) or face cosine: the top `limit` are all returned.
_NO_THRESHOLD = -4.0


def _references(runtime: Runtime, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    with runtime.sessions() as session:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = session.execute(
                select(DatasetRow.id, DatasetRow.reference_number).where(DatasetRow.id.in_(chunk))
            )
            found.update({row_id: reference for row_id, reference in rows})
    return found


def _search(runtime: Runtime, body: EvaluationSearch) -> EvaluationAnswer:
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
        gallery_size=len(runtime.gallery),
        results=[
            EvaluationProbeResult(
                probe_id=probe.probe_id,
                candidates=[
                    EvaluationCandidate(
                        reference_number=references[hit.entry_id],
                        score=round(hit.score, 6),
                        modality=Modality(hit.modality.value),
                        fingers_compared=hit.fingers_compared,
                    )
                    for hit in outcome.hits
                    if hit.entry_id in references  # erased since the search
                ],
            )
            for probe, outcome in zip(body.probes, outcomes, strict=True)
        ],
    )


async def evaluation_search(runtime: Runtime, body: EvaluationSearch) -> EvaluationAnswer:
    return await asyncio.to_thread(_search, runtime, body)
