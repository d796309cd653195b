"""schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import schemathesis
from schemathesis import Case, CheckContext, Response


@schemathesis.check
def schema_valid_data_passes_the_schema(ctx: CheckContext, response: Response, case: Case
                                        ) -> bool | None:
    """Data generated from the schema may break a domain rule (422 rule-violation...), but
    the service's own schema validation must never refuse it: that would be a spec that
    promises what the service does not accept."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    problem = response.json()
    if isinstance(problem, dict) and problem.get("type") == "/problems/validation":
        raise AssertionError(f"schema-valid data refused by schema validation: "
                             f"{problem.get('errors')}")
    return None
