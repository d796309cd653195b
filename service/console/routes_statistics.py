"""Statistics (Art 12) and Movements pages: views of GET /v1/statistics (one call of its use
case per month of the range) and GET /v1/statistics/movements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from schemas.codes import Category
from schemas.lifecycle import StatisticsRow
from service.api.deps import AuditDep, RuntimeDep
from service.api.routes.oversight import check_period
from service.audit.events import Operation
from service.auth import Caller
from service.console import charts, filters
from service.console.access import Page
from service.console.web import show
from service.runtime import Runtime
from service.statistics.counters import Metric
from service.statistics.movements import movements
from service.statistics.report import monthly

router = APIRouter(prefix="/console", include_in_schema=False)

STORED = [Category.APPLICANT, Category.IRREGULAR_CROSSING, Category.ILLEGAL_STAY,
          Category.SEARCH_AND_RESCUE, Category.TEMPORARY_PROTECTION,
          Category.NATIONAL_RESETTLEMENT]
CATEGORY_NAMES = {
    Category.TEMPORARY_PROTECTION: "0 temporary protection",
    Category.APPLICANT: "1 applicant",
    Category.IRREGULAR_CROSSING: "2 irregular crossing",
    Category.ILLEGAL_STAY: "3 illegal stay",
    Category.LAW_ENFORCEMENT: "4 law enforcement",
    Category.EUROPOL: "5 Europol",
    Category.DATA_SUBJECT_ACCESS: "6 data-subject request",
    Category.ADMISSION: "7 admission",
    Category.NATIONAL_RESETTLEMENT: "8 national resettlement",
    Category.SEARCH_AND_RESCUE: "9 search and rescue",
}
FIGURES = [  # metric, heading
    (Metric.MARKED, "Datasets marked"),
    (Metric.UNMARKED, "Datasets unmarked"),
    (Metric.HIT_ON_MARKED, "Hits on marked datasets"),
    (Metric.FALSE_HIT, "False hits reported"),
    (Metric.QUALITY_REREQUEST, "Re-requests for quality"),
    (Metric.SUBJECT_REQUEST, "Data-subject requests"),
]


def _month_range(runtime: Runtime, request: Request) -> tuple[str, str, list[str]]:
    this_month = runtime.clock.now().strftime("%Y-%m")
    query = dict(request.query_params)
    first = filters.month(query, "from", this_month)
    last = filters.month(query, "to", first)
    return first, last, filters.months_between(first, last)


def _rows(runtime: Runtime, caller: Caller, months: list[str]) -> list[StatisticsRow]:
    with runtime.sessions() as session:
        return [row for month in months for row in monthly(session, month).rows]


def _statistics_view(runtime: Runtime, caller: Caller, request: Request
                     ) -> tuple[str, dict[str, Any]]:
    first, last, months = _month_range(runtime, request)
    rows = _rows(runtime, caller, months)
    transmitted: dict[str, dict[Category, int]] = defaultdict(lambda: defaultdict(int))
    matrix: dict[tuple[Category, Category], int] = defaultdict(int)
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        state = row.member_state.value
        if row.metric == Metric.TRANSMITTED:
            transmitted[state][row.category] += row.count
        elif row.metric == Metric.HIT and row.matched_category is not None:
            matrix[(row.category, row.matched_category)] += row.count
        else:
            figures[row.metric][state] += row.count
    used = sorted({c for per in transmitted.values() for c in per})
    series = [charts.Series(CATEGORY_NAMES[c], charts.PALETTE[i % len(charts.PALETTE)])
              for i, c in enumerate(used)]
    states = sorted(transmitted, key=lambda s: (-sum(transmitted[s].values()), s))
    bars = [(s, [transmitted[s].get(c, 0) for c in used]) for s in states]
    searching = sorted({a for a, _ in matrix} | set(STORED[:4]))
    cells = [[matrix.get((a, b), 0) for b in STORED] for a in searching]
    return "statistics.html", {
        "first": first, "last": last,
        "transmissions_chart": charts.stacked_bars(
            "tx", "Datasets transmitted per Member State and category", bars, series),
        "transmissions": bars, "categories": [CATEGORY_NAMES[c] for c in used],
        "hit_chart": charts.heat_map(
            "hits", "Hits by searching and matched category",
            [CATEGORY_NAMES[c] for c in searching], [str(int(c)) for c in STORED], cells,
            "searching category", "matched category"),
        "hit_rows": [(CATEGORY_NAMES[a], cells[i]) for i, a in enumerate(searching)],
        "stored": [CATEGORY_NAMES[c] for c in STORED],
        "figures": [_figure(i, heading, figures[metric.value])
                    for i, (metric, heading) in enumerate(FIGURES)],
        "total_transmitted": sum(sum(values) for _, values in bars),
        "total_hits": sum(matrix.values()),
    }


def _figure(index: int, heading: str, per_state: dict[str, int]
            ) -> tuple[str, dict[str, int], int, Any]:
    """One Art 12 figure: its counts per Member State, total and bar chart."""
    ordered = sorted(per_state.items(), key=lambda item: (-item[1], item[0]))
    chart = charts.stacked_bars(f"f{index}", heading, [(s, [n]) for s, n in ordered],
                                [charts.Series(heading, charts.PALETTE[index])], 420)
    return heading, dict(ordered), sum(per_state.values()), chart


@router.get("/statistics")
def statistics_page(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Art 12 statistics for a month or a range of months (GET /v1/statistics per month)."""
    return show(request, runtime, audit, Page.STATISTICS, Operation.STATISTICS,
                lambda caller: _statistics_view(runtime, caller, request))


def _movements_view(runtime: Runtime, caller: Caller, request: Request
                    ) -> tuple[str, dict[str, Any]]:
    first, last, _ = _month_range(runtime, request)
    category = filters.category(dict(request.query_params), "category")
    since = dt.date(int(first[:4]), int(first[5:]), 1)
    year, month = int(last[:4]), int(last[5:])
    until = dt.date(year + month // 12, month % 12 + 1, 1)
    check_period(since, until)
    with runtime.sessions() as session:
        report = movements(session, since, until, category)
    flows = [(f.origin, f.destination, f.count) for f in report.flows]
    return "movements.html", {
        "first": first, "last": last, "category": category,
        "categories": [(int(c), name) for c, name in CATEGORY_NAMES.items()],
        "flows": report.flows, "total": sum(f.count for f in report.flows),
        "chart": charts.sankey("flows", "Hits between Member States", flows),
    }


@router.get("/movements")
def movements_page(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Flows between Member States revealed by hits (GET /v1/statistics/movements)."""
    return show(request, runtime, audit, Page.MOVEMENTS, Operation.STATISTICS,
                lambda caller: _movements_view(runtime, caller, request))
