"""Monthly statistics (Art 12), for supervisors and admins; JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from schemas.lifecycle import StatisticsReport
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, CurrentCaller, RuntimeDep
from service.statistics.report import as_csv, monthly

router = APIRouter(tags=["statistics"], dependencies=[AUTHORIZED],
                   responses={401: {"model": Problem}, 403: {"model": Problem}})


@router.get("/v1/statistics", response_model=StatisticsReport,
            responses={200: {"content": {"text/csv": {}}}})
def statistics(
    caller: CurrentCaller,
    runtime: RuntimeDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> StatisticsReport | Response:
    """Anonymous counts per Member State and category for a month (no reference numbers)."""
    with runtime.sessions() as session:
        report = monthly(session, month)
    if format == "csv":
        return Response(as_csv(report), media_type="text/csv")
    return report
