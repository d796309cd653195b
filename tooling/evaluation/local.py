"""The same evaluation without a service: a matcher gallery built from the synthetic files.

For galleries too large or too slow to load through the service in the time at hand: the
matcher, the fusion rule and the metrics are the service's; only storage, encryption and the
rules of who is compared with whom are left out (every usable dataset is a candidate, as in
the evaluation search).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

import matcher
from schemas.codes import AdmissionDecision, Category, MemberState
from schemas.transmission import Biometrics
from service.bulk.evaluation import EVERY_STORED_GROUP
from service.errors import InvalidInput
from service.rules.categories import rule_for
from service.transmission.templates import decode_biometrics, to_templates
from tooling.evaluation.gather import Gathered, join_truth
from tooling.synth.dataset import read_lines, read_manifest

_STATE = {code.value: index for index, code in enumerate(MemberState)}
_SEARCH_BATCH = 64


def usable_templates(biometrics: object, config: matcher.MatcherConfig
                     ) -> matcher.Templates | None:
    """The templates of a synthetic line as the quality gate lets them in; None if refused."""
    try:
        fingers, face = decode_biometrics(Biometrics.model_validate(biometrics), config)
    except (InvalidInput, ValueError):  # ValueError: pydantic's, e.g. no biometrics at all
        return None
    templates = to_templates(fingers, face)
    report = matcher.assess(templates, config)
    if (templates.fingers and not report.usable_fingers) or not report.searchable:
        return None  # the quality gate refuses it: never in the gallery
    return templates


def build_gallery(directory: Path, config: matcher.MatcherConfig,
                  advance: Callable[[int], None]) -> tuple[matcher.Gallery, list[str]]:
    gallery = matcher.Gallery(config)
    references: list[str] = []

    def entries() -> Iterator[tuple[int, matcher.Templates, matcher.EntryMeta]]:
        for name in read_manifest(directory)["load"]:
            for line in read_lines(directory / "load" / name):
                item = orjson.loads(line)
                body = item["transmission"]
                advance(1)
                decision = body.get("admission_decision")
                rule = rule_for(Category(body["category"]),
                                None if decision is None else AdmissionDecision(decision))
                templates = usable_templates(body["biometrics"], config)
                if templates is None or rule.group is None:
                    continue
                references.append(body["reference_number"])
                meta = matcher.EntryMeta(group=rule.group,
                                         member_state=_STATE[item["member_state"]])
                yield len(references) - 1, templates, meta

    gallery.add_many(entries())
    return gallery, references


def read_probes(directory: Path, config: matcher.MatcherConfig,
                refused: set[str] | None = None) -> Iterator[tuple[str, matcher.Templates]]:
    """(probe id, templates) of every probe of DIR/probes the quality gate lets in; the ids of
    the others (failures to acquire) go to `refused`."""
    for name in read_manifest(directory)["probes"]:
        for line in read_lines(directory / "probes" / name):
            probe = orjson.loads(line)
            templates = usable_templates(probe["biometrics"], config)
            if templates is not None:
                yield probe["probe_id"], templates
            elif refused is not None:
                refused.add(probe["probe_id"])


def gather_locally(directory: Path, config: matcher.MatcherConfig, *, limit: int,
                   advance: Callable[[int], None]) -> Gathered:
    gallery, references = build_gallery(directory, config, advance)
    found: dict[str, list[tuple[str, float]]] = {}
    batch: list[tuple[str, matcher.Templates]] = []

    def flush() -> None:
        outcomes = gallery.search_many([templates for _, templates in batch],
                                       [EVERY_STORED_GROUP] * len(batch),
                                       finger_threshold=-4.0, face_threshold=-4.0, limit=limit)
        for (probe_id, _), outcome in zip(batch, outcomes, strict=True):
            found[probe_id] = [(references[hit.entry_id], hit.score) for hit in outcome.hits
                               if hit.modality is matcher.Modality.FINGERPRINT]
        advance(len(batch))
        batch.clear()

    refused: set[str] = set()
    for probe in read_probes(directory, config, refused):
        batch.append(probe)
        if len(batch) == _SEARCH_BATCH:
            flush()
    if batch:
        flush()
    return join_truth(directory, found, gallery_size=len(gallery), limit=limit, refused=refused)
