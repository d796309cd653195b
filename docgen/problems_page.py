"""The problem types, from the registry the service answers `/problems/{slug}` from."""

from __future__ import annotations

from docgen.tables import table
from service.api.problems import CATALOGUE

HEADER = """# Problem types

Generated from `service/api/problems.py` (`CATALOGUE`) by `docgen/problems_page.py`. Every
error is an RFC 9457 `application/problem+json` body whose `type` is one of these; a running
service describes each at `GET /problems/{slug}`. Validation problems never echo the submitted
values.

"""


class UndocumentedProblem(Exception):
    """A problem type without a description: callers would not know what to do about it."""


def render() -> str:
    missing = sorted(slug for slug, (_, _, description) in CATALOGUE.items() if not description)
    if missing:
        raise UndocumentedProblem(f"problem types without a docstring: {missing}")
    rows = [(f"`/problems/{slug}`", status, title, description)
            for slug, (status, title, description) in sorted(CATALOGUE.items())]
    return HEADER + table(("type", "status", "title", "what to do"), rows)
