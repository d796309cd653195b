"""Date rules: minimum age (Art 14), transmission deadline, retention period (Art 29)."""

from __future__ import annotations

import datetime as dt

MINIMUM_AGE_YEARS = 6
MAXIMUM_AGE_YEARS = 120  # older is a typing error (a date of birth in 1800), not a person


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def old_enough(birth: dt.date, taken_on: dt.date) -> bool:
    return age_on(birth, taken_on) >= MINIMUM_AGE_YEARS


def plausible_age(birth: dt.date, taken_on: dt.date) -> bool:
    return age_on(birth, taken_on) <= MAXIMUM_AGE_YEARS


def retention_until(transmitted_on: dt.date, years: int) -> dt.date:
    """Last day the dataset may be kept; retention runs from the date of transmission."""
    return add_years(transmitted_on, years)


def is_late(taken_at: dt.datetime, transmitted_at: dt.datetime, deadline: dt.timedelta) -> bool:
    return transmitted_at - taken_at > deadline
