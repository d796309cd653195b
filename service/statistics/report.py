"""The monthly report: JSON rows, or CSV, of the anonymous counters."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.codes import Category
from schemas.lifecycle import FailedAccessRow, StatisticsReport, StatisticsRow
from service.statistics.counters import NOT_APPLICABLE
from service.statistics.models import StatisticRow

COLUMNS = ["month", "member_state", "category", "metric", "matched_category", "count"]


def monthly(session: Session, month: str) -> StatisticsReport:
    rows = session.scalars(
        select(StatisticRow).where(StatisticRow.month == month).order_by(
            StatisticRow.member_state, StatisticRow.category, StatisticRow.metric,
            StatisticRow.matched_category)
    )
    counted = list(rows)
    return StatisticsReport(
        month=month,
        rows=[
            StatisticsRow(
                member_state=row.member_state,
                category=Category(row.category),
                metric=row.metric,
                matched_category=None if row.matched_category == NOT_APPLICABLE
                else Category(row.matched_category),
                count=row.count,
            )
            for row in counted if row.category != NOT_APPLICABLE
        ],
        failed_access=[  # counted without a category: see service.statistics.counters
            FailedAccessRow(member_state=row.member_state, metric=row.metric, count=row.count)
            for row in counted if row.category == NOT_APPLICABLE
        ],
    )


def as_csv(report: StatisticsReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        matched = "" if row.matched_category is None else int(row.matched_category)
        writer.writerow([report.month, row.member_state.value, int(row.category), row.metric,
                         matched, row.count])
    for failed in report.failed_access:
        writer.writerow([report.month, failed.member_state, "", failed.metric, "", failed.count])
    return out.getvalue()
