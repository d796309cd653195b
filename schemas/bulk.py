"""Bulk ingest (`POST /v1/bulk/transmissions`): NDJSON in, NDJSON out, one line per dataset.

Request body: one `BulkItem` per line (UTF-8 JSON, `\\n`-separated). Response body: one
`BulkItemResult` per request line, in the order the items finish (`line` says which), then one
`BulkSummary` as the last line; a response without its summary line was cut short.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.codes import HitResult, MemberState
from schemas.transmission import TransmissionRequest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BulkItem(_Strict):
    """One dataset to load. A Member State's operator key may omit `member_state` (its own is
    used); an EU-level operator key must name the Member State the dataset is loaded for."""

    member_state: MemberState | None = None
    transmission: TransmissionRequest


class BulkStatus(StrEnum):
    STORED = "stored"  # compared and stored
    SEARCHED = "searched"  # a search-only category: compared, nothing stored
    DUPLICATE = "duplicate"  # the reference number is already stored: loaded before
    REFUSED = "refused"  # a rule, the schema or the quality gate refused it; see `problem`


class BulkProblem(_Strict):
    """Why an item was refused: the RFC 9457 problem a single transmission would get."""

    type: str
    title: str
    status: int
    detail: str | None = None


class BulkItemResult(_Strict):
    kind: Literal["item"] = "item"
    line: int = Field(ge=1, description="1-based line number in the request body")
    reference_number: str | None = None
    status: BulkStatus
    result: HitResult | None = None
    hits: list[str] = Field(default_factory=list, description="reference numbers of the hits")
    problem: BulkProblem | None = None


class BulkSummary(_Strict):
    """The last line of a bulk response: counts over the whole request."""

    kind: Literal["summary"] = "summary"
    items: int
    stored: int
    searched: int
    duplicate: int
    refused: int
    hits: int  # items whose comparison found at least one hit
