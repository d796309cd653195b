"""Which gallery entries a search may compare against.

The service translates the legal rules (which categories a transmission is compared with, which
Member State's own data is left out) into small integers; the matcher only evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Eligibility", "EntryMeta"]

_BYTE = range(256)


def _check_byte(name: str, value: int) -> None:
    if value not in _BYTE:
        raise ValueError(f"{name} must be in 0..255, got {value}")


@dataclass(frozen=True, slots=True)
class EntryMeta:
    """What the gallery needs to know about an entry to decide whether a search may see it."""

    group: int
    member_state: int
    marked: bool = False

    def __post_init__(self) -> None:
        _check_byte("group", self.group)
        _check_byte("member_state", self.member_state)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """An entry is eligible iff its group is in `groups`, or in `marked_only_groups` and it is
    marked; and, in both cases, its Member State is not `exclude_member_state`."""

    groups: frozenset[int]
    marked_only_groups: frozenset[int] = frozenset()
    exclude_member_state: int | None = None

    def __post_init__(self) -> None:
        # Accept any set of ints but store frozensets, so that an Eligibility stays hashable
        # (search_many groups probes by it).
        object.__setattr__(self, "groups", frozenset(self.groups))
        object.__setattr__(self, "marked_only_groups", frozenset(self.marked_only_groups))
        for group in (*self.groups, *self.marked_only_groups):
            _check_byte("group", group)
        if self.exclude_member_state is not None:
            _check_byte("exclude_member_state", self.exclude_member_state)


def _lookup(groups: Iterable[int]) -> npt.NDArray[np.bool_]:
    table = np.zeros(256, dtype=np.bool_)
    table[list(groups)] = True
    return table


def eligible_mask(
    eligible: Eligibility,
    group: npt.NDArray[np.uint8],
    member_state: npt.NDArray[np.uint8],
    marked: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Per-row eligibility over the gallery's metadata columns (vectorised: ~1 ms per 100k rows)."""
    mask = _lookup(eligible.groups)[group]
    if eligible.marked_only_groups:
        mask |= _lookup(eligible.marked_only_groups)[group] & marked
    if eligible.exclude_member_state is not None:
        mask &= member_state != eligible.exclude_member_state
    return mask
