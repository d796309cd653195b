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
    └── ConfigurationError            (startup) a missing or placeholder secret, a bad setting
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every error the service raises on purpose. `slug` names the problem type."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class Unauthenticated(ServiceError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Not allowed for this caller"


class CategoryNotAllowed(Forbidden):
    slug, title = "category-not-allowed", "Category not allowed for this role"


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class DuplicateReferenceNumber(ServiceError):
    status, slug, title = 409, "duplicate-reference-number", "Reference number already stored"


class PayloadTooLarge(ServiceError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class RateLimited(ServiceError):
    """Slow down: the key exceeded ABIS_RATE_LIMIT_PER_MINUTE; retry after `retry_after` s."""

    status, slug, title = 429, "rate-limited", "Too many requests"


class InvalidInput(ServiceError):
    status, slug, title = 422, "invalid-input", "Invalid input"


class InvalidTemplate(InvalidInput):
    slug, title = "invalid-template", "Invalid biometric template"


class RuleViolation(InvalidInput):
    slug, title = "rule-violation", "The transmission breaks a rule"


class InsufficientQuality(InvalidInput):
    slug, title = "insufficient-quality", "Biometric quality insufficient; retransmit"


class NotReady(ServiceError):
    status, slug, title = 503, "not-ready", "Service not ready"


class ConfigurationError(ServiceError):
    slug, title = "configuration", "Configuration error"
