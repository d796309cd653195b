"""The service's exception tree; `service.api.problems` turns each into an RFC 9457 response.

    ServiceError                      (500 internal)
    ├── Unauthenticated               (401) missing, unknown, expired or revoked API key
    ├── Forbidden                     (403) the caller's role may not do this
    │   └── CategoryNotAllowed        (403) the role may not send this category
    ├── NotFound                      (404) absent, or not the caller's to see
    ├── DuplicateReferenceNumber      (409) a stored dataset already has the reference number
    ├── PayloadTooLarge               (413) the body exceeds ABIS_MAX_BODY_BYTES
    ├── RateLimited                   (429) the key made too many requests; see Retry-After
    ├── InvalidInput                  (422) well-formed JSON that breaks a rule
    │   ├── InvalidTemplate           (422) bad base64, dimension, NaN/inf, zero vector, position
    │   ├── RuleViolation             (422) reference number, age, purpose, event, dates
    │   └── InsufficientQuality       (422) retransmit with the same reference number (Art 38(1))
    ├── NotReady                      (503) the gallery is still being loaded
    │   ├── GalleryUnavailable        (503) a partition of the gallery has no replica able to answer
    │   └── WriterFenced              (503) another writer took over (a higher epoch)
    └── ConfigurationError            (startup) a missing or placeholder secret, a bad setting
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Something failed inside the service and was logged. Retry later; if it persists, give
    the operators the response's `instance` and the time."""

    # Base of every error the service raises on purpose; `slug` names the problem type, and the
    # docstring of each class is what `GET /problems/{slug}` tells the caller to do.

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class Unauthenticated(ServiceError):
    """The API key is missing, unknown, expired or revoked. Send a valid key as `Authorization:
    Bearer <key>`."""

    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(ServiceError):
    """The key's role (or Member State) may not do this. Use a key of a role the route allows."""

    status, slug, title = 403, "forbidden", "Not allowed for this caller"


class CategoryNotAllowed(Forbidden):
    """The key's role may not send this category (e.g. categories 4 and 5 are for law enforcement
    only)."""

    slug, title = "category-not-allowed", "Category not allowed for this role"


class NotFound(ServiceError):
    """No such resource, or not the caller's to see: another Member State's dataset answers
    exactly as a missing one."""

    status, slug, title = 404, "not-found", "Not found"


class DuplicateReferenceNumber(ServiceError):
    """A stored dataset already has this reference number. Send a new one, or read the stored
    dataset back."""

    status, slug, title = 409, "duplicate-reference-number", "Reference number already stored"


class PayloadTooLarge(ServiceError):
    """The body is larger than the service accepts (ABIS_MAX_BODY_BYTES). Send fewer or smaller
    templates."""

    status, slug, title = 413, "payload-too-large", "Request body too large"


class RateLimited(ServiceError):
    """Slow down: the key exceeded ABIS_RATE_LIMIT_PER_MINUTE; retry after `retry_after` s."""

    status, slug, title = 429, "rate-limited", "Too many requests"


class InvalidInput(ServiceError):
    """Well-formed JSON that breaks a rule of the API; `detail` says which. Correct it and send
    again."""

    status, slug, title = 422, "invalid-input", "Invalid input"


class InvalidTemplate(InvalidInput):
    """A template is not a usable vector: bad base64, wrong dimension, NaN or infinity, a zero
    vector or an unknown finger position."""

    slug, title = "invalid-template", "Invalid biometric template"


class RuleViolation(InvalidInput):
    """The transmission breaks a rule of the regulation as modelled: reference number, age,
    purpose, event or dates; `detail` says which."""

    slug, title = "rule-violation", "The transmission breaks a rule"


class InsufficientQuality(InvalidInput):
    """No usable template: retake the biometrics and retransmit with the same reference number
    (Art 38(1))."""

    slug, title = "insufficient-quality", "Biometric quality insufficient; retransmit"


class NotReady(ServiceError):
    """The service is still loading its gallery. Retry shortly."""

    status, slug, title = 503, "not-ready", "Service not ready"


class GalleryUnavailable(NotReady):
    """Never a "no hit" on partial coverage: the search is refused until every partition has
    a replica caught up with the committed sequence."""

    slug, title = "gallery-unavailable", "A partition of the gallery is unavailable"


class WriterFenced(NotReady):
    """A newer writer took the lease (a higher epoch): this one writes nothing more. Retry: the
    request reaches the active writer once this one is stopped or traffic moves to the new one."""

    slug, title = "writer-fenced", "Another writer holds the lease"


class ConfigurationError(ServiceError):
    """The service cannot start with this configuration: a missing or placeholder secret, or a bad
    setting."""

    slug, title = "configuration", "Configuration error"


# The RFC 9457 body of a problem: service.api.problems answers with it, and a bulk run reports
# each failed item with it (service.bulk), so both say the same.
def problem_body(
    status: int, slug: str, title: str, detail: str | None, instance: str, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def error_body(error: ServiceError, instance: str) -> dict[str, Any]:
    return problem_body(
        error.status, error.slug, error.title, error.detail, instance, **error.context
    )
