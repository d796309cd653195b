"""Whose datasets an operator key may load, and as whom each one is transmitted."""

from __future__ import annotations

from dataclasses import replace

from schemas.codes import EU_LEVEL
from service.auth import Caller
from service.errors import Forbidden


def caller_for(operator: Caller, member_state: str | None) -> Caller:
    """The caller a dataset is transmitted as: the operator's key and role, for the Member
    State the dataset belongs to. A Member State's key loads only its own datasets; an EU-level
    key loads for the Member State each item names."""
    if operator.member_state == EU_LEVEL:
        if member_state is None:
            raise Forbidden("an EU-level operator key must name each item's member_state")
        return replace(operator, member_state=member_state)
    if member_state is not None and member_state != operator.member_state:
        raise Forbidden(
            f"an operator key of {operator.member_state} loads only {operator.member_state}'s "
            "datasets"
        )
    return operator
