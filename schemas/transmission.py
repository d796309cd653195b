"""A transmission: one biometric dataset sent by a Member State, and the answer to it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from schemas.codes import AdmissionDecision, Category, HitResult, MemberState, Modality, Sex

#: Base64 (standard alphabet, padded) of a little-endian float32 vector.
Base64Template = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$", min_length=4, max_length=65_536),
]
#: Member State code, category digit, then the sender's own number.
REFERENCE_NUMBER_PATTERN = r"^[A-Z]{2}[0-9][A-Z0-9-]{1,27}$"
ReferenceNumber = Annotated[
    str, StringConstraints(pattern=REFERENCE_NUMBER_PATTERN, max_length=30)
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True,
                                             pattern=r"\S")]  # not blank, as the spec says


def _integer_code(value: object) -> object:
    """JSON integers only: `true` is not 1 and `"2"` is not 2 (pydantic's lax mode takes both)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer code (not a string or a boolean)")
    return value


StrictCategory = Annotated[Category, BeforeValidator(_integer_code)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Biometrics(_Strict):
    """Template vectors; fingers are keyed by finger position "1" (right thumb) .. "10"."""

    fingers: dict[str, Base64Template] = Field(default_factory=dict, max_length=10)
    face: Base64Template | None = None


class IdentityDocument(_Strict):
    type: ShortText
    number: ShortText
    issuing_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    expiry: dt.date | None = None


class Person(_Strict):
    """Alphanumeric data about the person; all of it is personal data and stored encrypted."""

    family_name: ShortText | None = None
    given_names: ShortText | None = None
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    date_of_birth: dt.date | None = None
    place_of_birth: ShortText | None = None
    sex: Sex | None = None
    document: IdentityDocument | None = None


class Event(_Strict):
    """Where and when the application, apprehension or disembarkation took place."""

    place: ShortText
    date: dt.date


class TransmissionRequest(_Strict):
    """Body of POST /v1/transmissions. The Member State of origin comes from the caller's key."""

    reference_number: ReferenceNumber
    category: StrictCategory
    biometrics: Biometrics
    person: Person = Field(default_factory=Person)
    event: Event | None = None
    taken_at: dt.datetime
    operator_user_id: ShortText
    compare_own_data: StrictBool = False
    urgent: StrictBool = False
    admission_decision: AdmissionDecision | None = None
    purpose: ShortText | None = None
    case_number: ShortText | None = None


class HitView(_Strict):
    """One matching dataset, as the comparison reveals it to the searching Member State."""

    hit_id: int | None
    reference_number: str
    member_state: MemberState
    category: Category
    taken_at: dt.datetime
    transmitted_at: dt.datetime
    event_date: dt.date | None
    marked: bool
    score: float
    modality: Modality
    fingers_compared: int


class SecondaryMovement(_Strict):
    """The person was registered before by other Member States."""

    member_states: list[MemberState]
    first_seen: dt.date | None


class Responsibility(_Strict):
    """Hint at the Member State responsible under Regulation (EU) 2024/1351."""

    member_state: MemberState
    rule: str
    article: str
    basis_reference_number: str


class HeldDataset(_Strict):
    """Data held on the person by one Member State (data-subject access, Art 43)."""

    member_state: MemberState
    reference_number: str
    category: Category
    person: Person
    event: Event | None
    taken_at: dt.datetime
    transmitted_at: dt.datetime


class TransmissionResult(_Strict):
    """Answer to a transmission: hit or no hit, and whether the dataset was stored."""

    reference_number: str
    result: HitResult
    stored: bool
    hits: list[HitView]
    sequence_id: int | None
    secondary_movement: SecondaryMovement | None
    responsibility: Responsibility | None
    verification_required: bool
    late: bool
    transmitted_at: dt.datetime
    retention_until: dt.date | None
    data_held: list[HeldDataset] | None = None  # category 6 only; the probe is not kept
