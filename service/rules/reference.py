"""Reference numbers: Member State code, category digit, then a suffix unique to the sender."""

from __future__ import annotations

from schemas.codes import Category


def reference_problem(reference_number: str, member_state: str, category: Category) -> str | None:
    """Why the reference number does not fit its sender and category, or None when it does.

    The wire schema already checked the shape (two letters, a digit, 1-27 of A-Z 0-9 -).
    """
    if reference_number[:2] != member_state:
        return f"reference number must start with the caller's Member State code {member_state}"
    if reference_number[2] != str(int(category)):
        return f"reference number's category digit must be {int(category)} for this category"
    return None
