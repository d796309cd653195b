"""Problem responses for service errors: a 500 hides its cause, a 503 not-ready says it."""

from __future__ import annotations

import orjson
from starlette.requests import Request

from service.api.problems import _service_error
from service.errors import NotReady, ServiceError


def _request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/readyz", "headers": [],
                    "query_string": b"", "state": {}})


def test_not_ready_is_a_503_that_says_why() -> None:
    response = _service_error(_request(), NotReady("the gallery is still loading"))
    body = orjson.loads(bytes(response.body))
    assert response.status_code == 503 and body["type"].endswith("/not-ready")
    assert body["detail"] == "the gallery is still loading"


def test_an_internal_error_hides_its_cause() -> None:
    response = _service_error(_request(), ServiceError("database password is hunter2"))
    body = orjson.loads(bytes(response.body))
    assert response.status_code == 500 and "hunter2" not in body["detail"]
