"""Wire models shared by the service, the CLI, clients and load tests (pydantic only)."""

from schemas.bulk import BulkItem, BulkItemResult, BulkProblem, BulkStatus, BulkSummary
from schemas.codes import (
    EU_LEVEL,
    AdmissionDecision,
    Category,
    HitResult,
    MemberState,
    Modality,
    Role,
    Sex,
)
from schemas.dataset import DatasetView
from schemas.evaluation import (
    EvaluationAnswer,
    EvaluationCandidate,
    EvaluationProbe,
    EvaluationProbeResult,
    EvaluationSearch,
)
from schemas.problem import Problem
from schemas.templates import encode_template
from schemas.transmission import (
    Biometrics,
    Event,
    HitView,
    IdentityDocument,
    Person,
    Responsibility,
    SecondaryMovement,
    TransmissionRequest,
    TransmissionResult,
)

__all__ = [
    "EU_LEVEL",
    "AdmissionDecision",
    "Biometrics",
    "BulkItem",
    "BulkItemResult",
    "BulkProblem",
    "BulkStatus",
    "BulkSummary",
    "Category",
    "DatasetView",
    "EvaluationAnswer",
    "EvaluationCandidate",
    "EvaluationProbe",
    "EvaluationProbeResult",
    "EvaluationSearch",
    "Event",
    "HitResult",
    "HitView",
    "IdentityDocument",
    "MemberState",
    "Modality",
    "Person",
    "Problem",
    "Responsibility",
    "Role",
    "SecondaryMovement",
    "Sex",
    "TransmissionRequest",
    "TransmissionResult",
    "encode_template",
]
