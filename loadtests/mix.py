"""Who the load test's users are: a fixed number of each side role, border officers for the rest.

Shared by `loadtests.run` (which needs the officer count to pace them) and the locustfile
(which gives each side-role class its fixed count).
"""

from __future__ import annotations

# Side roles, one user each unless `--mix` says otherwise: a law-enforcement searcher, a
# supervisor reading the audit log, an operator loading in bulk, a misbehaving client.
DEFAULT_SIDE_ROLES = {"police": 1, "supervisor": 1, "operator": 1, "bad": 1}


def side_roles(mix: str) -> dict[str, int]:
    """`"police=2,bad=0"` -> the count of every side role (defaults for those not named)."""
    counts = dict(DEFAULT_SIDE_ROLES)
    for part in (part.strip() for part in mix.split(",")):
        if not part:
            continue
        name, _, weight = part.partition("=")
        if name not in counts or not weight.isdigit():
            raise ValueError(f"--mix: expected role=count with a role among "
                             f"{', '.join(counts)}, got {part!r}")
        counts[name] = int(weight)
    return counts


def officer_pacing(users: int, mix: str, rate: float) -> float:
    """Seconds between the starts of one officer's transmissions so that all officers together
    offer `rate` transmissions/s (locust's constant_pacing: the offer holds whatever the
    answer time, as long as answers come faster than the pacing)."""
    officers = users - sum(side_roles(mix).values())
    if officers < 1:
        raise ValueError(f"--rate needs border officers: {users} users leave none "
                         f"beside the side roles of --mix")
    if not rate > 0:
        raise ValueError("--rate must be a positive number of transmissions/s")
    return officers / rate
