"""Bulk ingest as a stream: NDJSON lines in, one result line per item out, then a summary.

Every item goes through `transmit`, exactly as a single transmission does (rules, quality gate,
encryption, comparison, storage, audit event). Up to `window` items are in flight at once, so
the transmission writer takes them in full batches (one FAISS call, one commit per batch)
instead of one by one; reading stops while the window is full, which is what bounds memory
whatever the size of the request.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import structlog
from pydantic import ValidationError

from schemas.bulk import BulkItem, BulkItemResult, BulkProblem, BulkStatus, BulkSummary
from schemas.codes import HitResult
from service.audit.events import Operation, RequestAudit
from service.auth import Caller
from service.bulk.callers import caller_for
from service.errors import (
    DuplicateReferenceNumber,
    InvalidInput,
    NotReady,
    ServiceError,
    error_body,
)
from service.transmission.service import Transmitting, transmit
from service.writer.commands import RecordOnly

_log = structlog.get_logger(__name__)
ROUTE = "/v1/bulk/transmissions"


async def split_lines(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes | None]:
    """The lines of a streamed body; None stands for a line longer than `limit` bytes (skipped
    without being kept in memory)."""
    buffer = bytearray()
    skipping = False
    async for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not skipping:
                    buffer += chunk[start:]
                    if len(buffer) > limit:
                        skipping = True
                        buffer.clear()
                break
            if skipping:
                yield None
                skipping = False
            else:
                buffer += chunk[start:end]
                yield None if len(buffer) > limit else bytes(buffer)
            buffer.clear()
            start = end + 1
    if skipping:
        yield None
    elif buffer.strip():
        yield bytes(buffer)


def _problem(error: ServiceError) -> BulkProblem:
    """The item's problem as a single request would answer it: a NotReady keeps its detail
    (why, and that a retry helps; not a bug), any other 5xx is logged and its detail masked."""
    body = error_body(error, ROUTE)
    detail = body["detail"]
    if error.status >= 500 and not isinstance(error, NotReady):
        _log.error("bulk_item_error", problem=error.slug)
        detail = "an internal error occurred; it is logged"
    return BulkProblem(type=body["type"], title=body["title"], status=body["status"],
                       detail=detail)


def _schema_problem(error: ValidationError) -> InvalidInput:
    # Locations only: messages and inputs may hold personal data or templates.
    where = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
    shown = ", ".join(where[:5]) + (" ..." if len(where) > 5 else "")
    return InvalidInput(f"the item does not match the bulk item schema at: {shown}")


class BulkRun:
    """One bulk request: items in, result lines out."""

    def __init__(self, runtime: Transmitting, operator: Caller, request_audit: RequestAudit | None,
                 *, window: int, line_limit: int) -> None:
        self._runtime = runtime
        self._operator = operator
        self._request_audit = request_audit
        self._window = asyncio.Semaphore(window)
        self._line_limit = line_limit
        self._out: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._counts: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def _item_audit(self, line: int, caller: Caller | None) -> RequestAudit | None:
        parent = self._request_audit
        if parent is None:
            return None
        return RequestAudit(f"{parent.request_id}:{line}", "POST", parent.client_hash,
                            route=ROUTE, caller=caller, operation=Operation.BULK_LOAD)

    async def _record_refusal(self, audit: RequestAudit | None, error: ServiceError) -> None:
        if audit is None or audit.written:
            return
        audit.problem = error.slug
        audit.outcome = {"refused": error.slug}
        await asyncio.wrap_future(self._runtime.pipeline.submit(RecordOnly(audit, error.status)))

    async def _one(self, line: int, raw: bytes | None) -> None:
        reference: str | None = None
        audit = None
        try:
            if raw is None:
                raise InvalidInput(f"the line exceeds {self._line_limit} bytes")
            try:
                item = BulkItem.model_validate_json(raw)
            except ValidationError as error:
                raise _schema_problem(error) from None
            reference = item.transmission.reference_number
            caller = caller_for(self._operator, item.member_state)
            audit = self._item_audit(line, caller)
            answer = await transmit(self._runtime, item.transmission, caller, audit)
            status = BulkStatus.STORED if answer.stored else BulkStatus.SEARCHED
            result = BulkItemResult(line=line, reference_number=reference, status=status,
                                    result=answer.result,
                                    hits=[hit.reference_number for hit in answer.hits])
            if answer.result is HitResult.HIT:
                self._counts["hits"] += 1
        except DuplicateReferenceNumber:
            result = BulkItemResult(line=line, reference_number=reference,
                                    status=BulkStatus.DUPLICATE)
        except ServiceError as error:
            if audit is None:
                audit = self._item_audit(line, None if raw is None else self._operator)
            try:
                await self._record_refusal(audit, error)
            except Exception:  # as for a single request: no answer that was never recorded
                _log.exception("audit_write_failed")
                error = ServiceError("the item could not be recorded in the audit log")
            result = BulkItemResult(line=line, reference_number=reference,
                                    status=BulkStatus.REFUSED, problem=_problem(error))
        except Exception:  # a bug fails the item, never the stream; repr may hold personal data
            _log.exception("bulk_item_failed")
            result = BulkItemResult(line=line, reference_number=reference,
                                    status=BulkStatus.REFUSED,
                                    problem=_problem(ServiceError("internal")))
        finally:
            self._window.release()
        self._counts[result.status.value] += 1
        await self._out.put(result.model_dump_json(exclude_none=True).encode() + b"\n")

    async def _read(self, body: AsyncIterator[bytes]) -> None:
        line = 0
        try:
            async for raw in split_lines(body, self._line_limit):
                if raw is not None and not raw.strip():
                    continue
                line += 1
                await self._window.acquire()
                task = asyncio.create_task(self._one(line, raw))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if self._tasks:
                await asyncio.gather(*list(self._tasks))
        finally:
            self._counts["items"] = line
            await self._out.put(None)

    async def results(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        reader = asyncio.create_task(self._read(body))
        try:
            while (chunk := await self._out.get()) is not None:
                # Send what is ready together: fewer, larger writes.
                while not self._out.empty() and len(chunk) < 65536:
                    more = self._out.get_nowait()
                    if more is None:
                        self._out.put_nowait(None)
                        break
                    chunk += more
                yield chunk
            await reader  # re-raises a failure to read the body
        finally:
            if not reader.done():
                reader.cancel()
        counts = self._counts
        summary = BulkSummary(items=counts["items"], stored=counts["stored"],
                              searched=counts["searched"], duplicate=counts["duplicate"],
                              refused=counts["refused"], hits=counts["hits"])
        yield summary.model_dump_json().encode() + b"\n"
