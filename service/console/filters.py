"""Reading the console's GET forms: an empty field means "any"; anything else is checked as the
API checks its query parameters, and bad input is refused (InvalidInput), never guessed at."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from schemas.codes import Category
from service.audit.query import MAX_PAGE, EventFilter
from service.errors import InvalidInput

_MEMBER_STATE = re.compile(r"^[A-Z]{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def text(query: Mapping[str, str], name: str, max_length: int) -> str | None:
    value = query.get(name, "").strip()
    if len(value) > max_length:
        raise InvalidInput(f"`{name}` is longer than {max_length} characters")
    return value or None


def moment(query: Mapping[str, str], name: str) -> dt.datetime | None:
    """A time from a datetime-local field, read as UTC (the console shows UTC throughout)."""
    value = text(query, name, 40)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"`{name}` is not a date and time") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = text(query, name, 12)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidInput(f"`{name}` must be a whole number from {low} to {high}")
    return int(value)


def event_filter(query: Mapping[str, str]) -> EventFilter:
    member_state = text(query, "member_state", 2)
    if member_state is not None and not _MEMBER_STATE.match(member_state):
        raise InvalidInput("`member_state` is a two-letter code")
    return EventFilter(
        member_state=member_state,
        since=moment(query, "since"),
        until=moment(query, "until"),
        operation=text(query, "operation", 40),
        reference_number=text(query, "reference_number", 30),
        actor_key_id=text(query, "actor", 24),
        after=number(query, "after", 0, 0, 2**62),
        limit=number(query, "limit", 50, 1, MAX_PAGE),
    )


def month(query: Mapping[str, str], name: str, default: str) -> str:
    value = text(query, name, 7) or default
    if not _MONTH.match(value):
        raise InvalidInput(f"`{name}` is a month: YYYY-MM")
    return value


def months_between(first: str, last: str, most: int = 36) -> list[str]:
    """Every month from `first` to `last`, both included."""
    year, mon = int(first[:4]), int(first[5:])
    end = (int(last[:4]), int(last[5:]))
    if (year, mon) > end:
        raise InvalidInput("the first month is after the last")
    months: list[str] = []
    while (year, mon) <= end:
        months.append(f"{year:04d}-{mon:02d}")
        if len(months) > most:
            raise InvalidInput(f"at most {most} months at once")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return months


def category(query: Mapping[str, str], name: str) -> Category | None:
    value = text(query, name, 2)
    if value is None:
        return None
    if not value.isdigit() or int(value) not in Category._value2member_map_:
        raise InvalidInput(f"`{name}` is a category digit")
    return Category(int(value))
