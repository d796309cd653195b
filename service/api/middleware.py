"""Pure ASGI middleware: request ids and access logs, and the request body size limit."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.transmission import REFERENCE_NUMBER_PATTERN
from service.api.problems import PROBLEM_JSON, RETRY_AFTER_SECONDS
from service.audit.events import RequestAudit
from service.auth.policy import operation_for
from service.errors import NotReady, PayloadTooLarge, ServiceError, error_body
from service.runtime import Runtime
from service.writer.commands import RecordOnly

_log = structlog.get_logger("abis.access")
# Only a well-formed reference number is recorded as a subject of a refused request's event
# (another path text may be anything, of any length).
_REFERENCE = re.compile(REFERENCE_NUMBER_PATTERN)


class RequestContext:
    """Gives each request an id and an audit record, and logs one access line.

    Every request except the health probes produces exactly one audit event, committed before
    the response starts: use cases that write their own (transmissions, in the writer's batch)
    mark it written; for every other request this middleware writes it, and if that fails the
    client gets a 500 problem instead of an answer that was never recorded.

    The access line names the route template, never the raw path (paths hold reference
    numbers); client addresses appear only as a keyed hash in the audit event.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        request_id = uuid.uuid4().hex
        audit = None
        if (runtime.audit is not None and scope["path"] not in _UNAUDITED
                and not scope["path"].startswith(_UNAUDITED_ASSETS)):
            client = scope.get("client")
            client_hash = runtime.audit.keys.fingerprint(client[0].encode()) if client else None
            audit = RequestAudit(request_id, scope["method"], client_hash)
        scope.setdefault("state", {}).update(request_id=request_id, audit=audit)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        replacement: bytes | None = None  # set when the audit write failed
        responded = False

        async def send_audited(message: Message) -> None:
            nonlocal status, replacement, responded
            if message["type"] == "http.response.start":
                responded = True
                status = message["status"]
                if audit is not None and not audit.written:
                    audit.route = getattr(scope.get("route"), "path", "unmatched")
                    if audit.operation is None:  # the route's row names it (policy.py)
                        audit.operation = operation_for(audit.method, audit.route)
                    named = scope.get("path_params", {}).get("reference_number")
                    if (isinstance(named, str) and _REFERENCE.match(named)
                            and named not in audit.reference_numbers):
                        audit.reference_numbers.append(named)  # even when refused
                    failed = await _record(runtime, audit, status)
                    if failed is not None:
                        status, replacement = _unrecorded(scope, failed)
                        message = _problem_start(status, replacement)
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and replacement is not None:
                if replacement:  # the problem once, instead of the unrecorded answer
                    message, replacement = {"type": "http.response.body", "body": replacement}, b""
                else:
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception as error:
            # A bug, not a refusal: answer 500 here, inside the audit, rather than let Starlette's
            # outermost handler answer after us (no audit event) and re-raise (the server then
            # drops the connection and the client's next request on it fails too).
            _log.exception("unhandled_error", error_type=type(error).__name__)
            if responded:
                raise  # mid-stream: nothing clean is left to send
            if audit is not None:
                audit.problem = "internal"
            body = _internal_body(scope, "an internal error occurred; it has been logged")
            await send_audited(_problem_start(500, body))
            await send_audited({"type": "http.response.body", "body": body})
        finally:
            route = scope.get("route")
            _log.info(
                "request",
                method=scope["method"],
                route=getattr(route, "path", "unmatched"),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


_UNAUDITED = frozenset({"/healthz", "/readyz"})  # liveness probes process no data
_UNAUDITED_ASSETS = ("/console/static/", "/docs-assets/")  # packaged files, no data


async def _record(runtime: Runtime, audit: RequestAudit, status: int) -> Exception | None:
    try:
        await asyncio.wrap_future(runtime.pipeline.submit(RecordOnly(audit, status)))
    except NotReady as error:  # e.g. this writer was fenced by a newer one: not a bug
        return error
    except Exception as error:
        _log.exception("audit_write_failed")
        return error
    return None


def _unrecorded(scope: Scope, failed: Exception) -> tuple[int, bytes]:
    if not isinstance(failed, NotReady):
        return 500, _internal_body(scope)
    body = error_body(failed, scope["path"]) | {"detail": failed.detail}
    return failed.status, orjson.dumps(body)


def _internal_body(scope: Scope, detail: str = "the request could not be recorded in the "
                   "audit log; nothing was done") -> bytes:
    error = ServiceError(detail)
    return orjson.dumps(error_body(error, scope["path"]) | {"detail": error.detail})


def _problem_start(status: int, body: bytes) -> Message:
    headers = [(b"content-type", PROBLEM_JSON.encode()),
               (b"content-length", str(len(body)).encode())]
    if status == 503:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return {"type": "http.response.start", "status": status, "headers": headers}


# Bodies read as a stream of lines, each limited by the route (ABIS_BULK_LINE_BYTES).
_STREAMED = frozenset({"/v1/bulk/transmissions"})


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413 before the application parses them.

    A declared Content-Length is checked up front; a chunked body is read up to the limit and
    then replayed to the application.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _STREAMED:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replaying_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replaying_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        error = PayloadTooLarge(f"the request body exceeds {self.limit} bytes")
        audit = scope.get("state", {}).get("audit")
        if audit is not None:
            audit.problem = error.slug
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        body = orjson.dumps(error_body(error, scope["path"]))
        await send({"type": "http.response.body", "body": body})
