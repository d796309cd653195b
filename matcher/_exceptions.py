"""The matcher's exceptions: one tree, each error carrying its context as attributes.

    MatcherError                 base of everything the matcher raises on purpose
    ├── TemplateError            a malformed template (.problem .position .expected .actual)
    ├── DuplicateEntryError      Gallery.add of an entry_id already present (.entry_id)
    └── UnknownEntryError        Gallery.remove/set_marked of an entry_id not present (.entry_id)

Programming errors in arguments that are not biometric data (a group outside 0..255, a negative
limit, sequences of different lengths) raise the built-in ValueError instead: the service never
has to map those to a client-facing answer.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DuplicateEntryError",
    "MatcherError",
    "TemplateError",
    "TemplateProblem",
    "UnknownEntryError",
]


class MatcherError(Exception):
    """Base class of every error the matcher raises on purpose."""


class TemplateProblem(StrEnum):
    """Why a template was refused; stable strings the service can put in a problem type."""

    UNKNOWN_POSITION = "unknown_position"
    WRONG_SHAPE = "wrong_shape"
    NON_FINITE = "non_finite"
    ZERO_VECTOR = "zero_vector"
    NORM_TOO_LARGE = "norm_too_large"
    NO_INFORMATION = "no_information"


class TemplateError(MatcherError):
    """A template is malformed: the sender must retransmit, the matcher never guesses.

    `position` is the finger position (1..10) or None for the face; `expected` and `actual`
    describe the mismatch (e.g. 128 and 127 for a wrong dimension).
    """

    def __init__(
        self,
        problem: TemplateProblem,
        *,
        position: int | None,
        expected: object,
        actual: object,
    ) -> None:
        if problem is TemplateProblem.UNKNOWN_POSITION:
            where = "finger position"
        else:
            where = "face" if position is None else f"finger position {position}"
        super().__init__(f"{where}: {problem.value} (expected {expected}, got {actual})")
        self.problem = problem
        self.position = position
        self.expected = expected
        self.actual = actual


class DuplicateEntryError(MatcherError):
    """The gallery already holds this entry_id; ids are never reused silently."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"entry {entry_id} is already in the gallery")
        self.entry_id = entry_id


class UnknownEntryError(MatcherError):
    """The gallery holds no entry with this entry_id (never added, or already removed)."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"entry {entry_id} is not in the gallery")
        self.entry_id = entry_id
