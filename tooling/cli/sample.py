"""`abis sample`: one valid synthetic transmission body, for curl."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from schemas.codes import Category
from service.settings import Settings


def sample(
    member_state: Annotated[str, typer.Option(help="Sender's Member State code")] = "IT",
    category: Annotated[int, typer.Option(min=0, max=9)] = 2,
    person: Annotated[int, typer.Option(help="Synthetic person seed: same seed, same person")] = 1,
    capture: Annotated[int, typer.Option(help="Which encounter: captures vary")] = 1,
    fresh: Annotated[bool, typer.Option(
        help="A new random reference number, so the same person can be sent again")] = False,
) -> None:
    """Print a valid synthetic transmission body (JSON) for curl."""
    import secrets

    from tooling.synth.sample import sample_transmission

    settings = Settings()
    suffix = f"F{secrets.token_hex(6).upper()}" if fresh else None
    body = sample_transmission(person_seed=person, capture=capture,
                               member_state=member_state.upper(), category=Category(category),
                               finger_dim=settings.finger_dim, face_dim=settings.face_dim,
                               reference_suffix=suffix)
    sys.stdout.write(orjson.dumps(body).decode() + "\n")
