"""The one place where errors become RFC 9457 `application/problem+json` responses.

Problem types are relative URIs (`/problems/<slug>`) that this service documents itself.
Validation errors never echo the submitted values: they may be personal data or templates.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import errors
from service.auth.policy import allowed_methods
from service.errors import NotReady, ServiceError, error_body, problem_body

PROBLEM_JSON = "application/problem+json"
_log = structlog.get_logger(__name__)

#: Every problem type the service answers with, and what the caller should do about it.
CATALOGUE: dict[str, tuple[int, str, str]] = {
    cls.slug: (cls.status, cls.title, " ".join((cls.__doc__ or "").split()))
    for cls in (
        errors.Unauthenticated,
        errors.Forbidden,
        errors.CategoryNotAllowed,
        errors.NotFound,
        errors.DuplicateReferenceNumber,
        errors.PayloadTooLarge,
        errors.RateLimited,
        errors.InvalidInput,
        errors.InvalidTemplate,
        errors.RuleViolation,
        errors.InsufficientQuality,
        errors.NotReady,
        errors.GalleryUnavailable,
        errors.WriterFenced,
        errors.ServiceError,
    )
} | {
    "validation": (422, "Request does not match the schema", "See `errors` for each field."),
    "http": (400, "HTTP error", "A protocol-level error (unknown route, wrong method...)."),
}


RETRY_AFTER_SECONDS = 2  # a replica restarts or a partition catches up in seconds


def _note(request: Request, slug: str) -> None:
    """The audit event of the request names the problem it was answered with."""
    audit = getattr(request.state, "audit", None)
    if audit is not None:
        audit.problem = slug


def problem_response(
    status: int, slug: str, title: str, detail: str | None, request: Request, **extra: Any
) -> JSONResponse:
    _note(request, slug)
    body = problem_body(status, slug, title, detail, request.url.path, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    _note(request, error.slug)
    if error.status >= 500 and not isinstance(error, NotReady):  # not-ready is expected, not a bug
        _log.error("service_error", problem=error.slug)
        detail = "an internal error occurred; it has been logged"
        return problem_response(error.status, error.slug, error.title, detail, request)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if "retry_after" in error.context:
        headers["Retry-After"] = str(error.context["retry_after"])
    elif isinstance(error, NotReady):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(
        error_body(error, request.url.path), status_code=error.status, media_type=PROBLEM_JSON,
        headers=headers or None,
    )


def _known_names() -> frozenset[str]:
    """Every field name of the wire models: the only strings a location may echo."""
    import schemas.audit
    import schemas.bulk
    import schemas.dataset
    import schemas.evaluation
    import schemas.lifecycle
    import schemas.transmission

    names = {"body", "query", "path", "header", "cookie", *map(str, range(1, 11))}
    for module in (schemas.audit, schemas.bulk, schemas.dataset, schemas.evaluation,
                   schemas.lifecycle, schemas.transmission):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                names.update(value.model_fields)
    return frozenset(names)


_KNOWN = _known_names()


def _safe_location(item: Any) -> list[object]:
    """The error's location with any name the caller made up (an unknown field, a dict key)
    replaced: a location echoes only names of the schema, never submitted text."""
    location: list[object] = []
    for part in item.get("loc", ()):
        location.append(part if isinstance(part, int) or part in _KNOWN else "<unknown>")
    return location


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"loc": _safe_location(item), "msg": item.get("msg"), "type": item.get("type")}
        for item in error.errors()
    ]
    return problem_response(
        422,
        "validation",
        "Request does not match the schema",
        f"{len(fields)} field(s) are invalid",
        request,
        errors=fields,
    )


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    response = problem_response(error.status_code, "http", str(error.detail), None, request)
    response.headers.update(error.headers or {})
    if error.status_code == 405:  # every method of the resource, not just the first route's
        response.headers["Allow"] = ", ".join(allowed_methods(request.url.path))
    return response


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Never leak repr(error): it may hold personal data. The log has the traceback.
    _log.exception("unhandled_error", error_type=type(error).__name__)
    return problem_response(
        500, "internal", "Internal error", "an internal error occurred; it has been logged", request
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
