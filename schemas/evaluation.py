"""Accuracy evaluation (`POST /v1/evaluation/search`, operators only, synthetic data only).

Unlike a transmission, which reveals only hits above the decision threshold, this returns the
top candidates of a probe whatever their score, so that non-mated score distributions can be
measured. Nothing is stored; the probe is compared with every stored dataset.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.codes import Modality
from schemas.transmission import Biometrics


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvaluationProbe(_Strict):
    probe_id: str = Field(min_length=1, max_length=64)
    biometrics: Biometrics


class EvaluationSearch(_Strict):
    probes: list[EvaluationProbe] = Field(min_length=1, max_length=1024)
    limit: int = Field(default=20, ge=1, le=1000, description="candidates per probe")


class EvaluationCandidate(_Strict):
    reference_number: str
    score: float
    modality: Modality
    fingers_compared: int


class EvaluationProbeResult(_Strict):
    probe_id: str
    candidates: list[EvaluationCandidate]  # best first


class EvaluationAnswer(_Strict):
    gallery_size: int  # datasets in the gallery when searched
    results: list[EvaluationProbeResult]
