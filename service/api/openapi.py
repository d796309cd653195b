"""The OpenAPI document, completed from the access table and the problem catalogue.

FastAPI documents what the route functions declare; what every route shares is added here in
one place, so the spec states every status and content type the service really returns:
- who may call each operation and what it reaches of other Member States
  (`x-abis-access` and a "Who may call" line, from `service.auth.policy`);
- every error as `application/problem+json` (`Problem`), with the statuses that any operation
  may answer: 401/403 (keyed routes), 400/413 (bodies), 422 (parameters), 429 (rate limit),
  500 (the audit event could not be written) and each route's own (404, 409, 503...).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from schemas.problem import Problem
from service.auth.policy import access_for

PROBLEM_JSON = "application/problem+json"
_REASONS = {
    400: "The body could not be read",
    401: "No valid API key",
    403: "The caller's role or Member State may not do this",
    404: "Absent, or not the caller's to see",
    409: "Conflict with stored data",
    413: "The body exceeds the size limit",
    422: "The request breaks the schema or a rule",
    429: "Too many requests for this key; see Retry-After",
    500: "The request could not be recorded in the audit log; nothing was done",
    503: "Not ready (the gallery is loading) or switched off in this deployment",
}
_UNAUDITED = frozenset({"/healthz", "/readyz"})


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    access = access_for(method.upper(), path)
    statuses = {413}  # the body limit reads Content-Length before routing
    if path not in _UNAUDITED:
        statuses.add(500)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(400)
    if access is None or not access.public:
        statuses |= {401, 403, 429}
    if access is not None:
        statuses |= set(access.errors)
    return statuses


def _annotate(path: str, method: str, operation: dict[str, Any]) -> None:
    access = access_for(method.upper(), path)
    if access is None:
        who, reach = "nobody (this route has no access rule)", "none"
        operation["x-abis-access"] = {"roles": [], "member_states": reach}
    else:
        who, reach = access.who(), access.reach.value
        operation["x-abis-access"] = {
            "roles": None if access.roles is None else sorted(r.value for r in access.roles),
            "member_states": reach,
        }
    line = f"**Who may call:** {who}. **Other Member States:** {reach}."
    operation["description"] = f"{operation.get('description', '').strip()}\n\n{line}".strip()
    responses: dict[str, Any] = operation.setdefault("responses", {})
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in sorted(_statuses(path, method, operation)):
        entry = responses.setdefault(str(status), {"description": _REASONS[status]})
        entry["content"] = problem
        if status == 429:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                "description": "seconds to wait"}}
    for code, declared in responses.items():  # FastAPI's own 422 says application/json
        if code[0] in "45" and "content" in declared:
            declared["content"] = problem


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _annotate(path, method, operation)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
