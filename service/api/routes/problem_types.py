"""Each problem `type` URI resolves to a short description of the problem."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.problems import CATALOGUE
from service.errors import NotFound

router = APIRouter(tags=["problems"])


@router.get("/problems/{slug}")
def problem_type(slug: str) -> dict[str, object]:
    """Describe a problem type that this service answers with."""
    if slug not in CATALOGUE:
        raise NotFound(f"no problem type {slug!r}")
    status, title, description = CATALOGUE[slug]
    return {"type": f"/problems/{slug}", "status": status, "title": title,
            "description": description}
