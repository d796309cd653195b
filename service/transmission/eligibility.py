"""The bridge between dataset rules and the matcher's gallery metadata."""

from __future__ import annotations

import matcher
from schemas.codes import MemberState
from service.rules.categories import Targets

_MEMBER_STATE_INDEX = {code.value: index for index, code in enumerate(MemberState)}


def member_state_index(code: str) -> int:
    return _MEMBER_STATE_INDEX[code]


def eligibility_for(targets: Targets, exclude_member_state: int | None) -> matcher.Eligibility:
    return matcher.Eligibility(
        groups=targets.groups,
        marked_only_groups=targets.marked_only,
        exclude_member_state=exclude_member_state,
    )
