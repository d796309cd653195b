"""Operator routes: bulk ingest and the accuracy evaluation search (synthetic data only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from schemas.evaluation import EvaluationAnswer, EvaluationSearch
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, RuntimeDep
from service.bulk.evaluation import evaluation_search
from service.bulk.ingest import BulkRun
from service.errors import NotReady

router = APIRouter(tags=["operators"], dependencies=[AUTHORIZED])

NDJSON = "application/x-ndjson"
_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (401, 403, 422, 503)
}


class _DuplexResponse(StreamingResponse):
    """Streams the answer while the request body is still being read: unlike Starlette's
    StreamingResponse under ASGI < 2.4, it does not also call `receive` to watch for a
    disconnect, which would steal body chunks from the reader."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


@router.post(
    "/v1/bulk/transmissions",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "one result line per item, "
                     "then a summary line (schemas.bulk)"}, **_PROBLEMS},
)
async def post_bulk(
    request: Request, caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep
) -> StreamingResponse:
    """Load many datasets: an NDJSON body of bulk items, each processed as one transmission."""
    if not runtime.ready.is_set():
        raise NotReady("the gallery is still loading; retry shortly")
    run = BulkRun(runtime, caller, audit, window=runtime.settings.bulk_window,
                  line_limit=runtime.settings.bulk_line_bytes)
    return _DuplexResponse(run.results(request.stream()), media_type=NDJSON)


@router.post("/v1/evaluation/search", response_model=EvaluationAnswer, responses=_PROBLEMS)
async def post_evaluation_search(
    body: EvaluationSearch, caller: CurrentCaller, runtime: RuntimeDep
) -> EvaluationAnswer:
    """Top candidates of each probe whatever their score (operators; synthetic data only)."""
    if not runtime.ready.is_set():
        raise NotReady("the gallery is still loading; retry shortly")
    return await evaluation_search(runtime, body, caller)
