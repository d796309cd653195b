"""Wire models shared by the service, the CLI, clients and load tests (pydantic only)."""

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
    "Category",
    "DatasetView",
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
