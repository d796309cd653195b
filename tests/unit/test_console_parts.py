"""The console's pure parts: session cookies, form filters, charts, the recent-errors memory."""

from __future__ import annotations

import datetime as dt

import pytest

from service.console import charts, filters
from service.console.session import SessionSigner
from service.errors import InvalidInput
from service.system.recent_errors import recent_errors, remember_errors

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def test_a_session_lasts_its_lifetime_and_ends_when_signed_out() -> None:
    signer = SessionSigner(b"k" * 32, dt.timedelta(minutes=15))
    cookie, session = signer.issue("abc123", NOW)
    assert signer.read(cookie, NOW + dt.timedelta(minutes=14)) == session
    assert signer.read(cookie, NOW + dt.timedelta(minutes=15)) is None
    other = SessionSigner(b"j" * 32, dt.timedelta(minutes=15))  # another master key
    assert other.read(cookie, NOW) is None
    assert signer.csrf_ok(session, signer.csrf_token(session))
    assert not signer.csrf_ok(session, other.csrf_token(session))
    assert not signer.csrf_ok(session, None)
    signer.end(session, NOW)
    assert signer.read(cookie, NOW) is None
    fresh, _ = signer.issue("abc123", NOW)
    assert signer.read(fresh, NOW) is not None  # only that session ended


def test_forms_read_empty_as_any_and_refuse_bad_input() -> None:
    wanted = filters.event_filter({"member_state": "", "since": "2026-11-30T10:00",
                                   "operation": "", "limit": "25"})
    assert wanted.member_state is None and wanted.operation is None and wanted.limit == 25
    assert wanted.since == dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    for bad in ({"member_state": "de"}, {"since": "soon"}, {"limit": "5000"}, {"after": "-1"},
                {"reference_number": "X" * 31}):
        with pytest.raises(InvalidInput):
            filters.event_filter(bad)
    assert filters.months_between("2025-11", "2026-02") == [
        "2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(InvalidInput):
        filters.months_between("2026-02", "2026-01")
    with pytest.raises(InvalidInput):
        filters.months_between("2020-01", "2026-01")
    with pytest.raises(InvalidInput):
        filters.category({"category": "12"}, "category")


def test_charts_need_no_inline_style_and_escape_labels() -> None:
    drawn = [
        charts.stacked_bars("b", "Bars", [("<DE>", [3, 1])],
                            [charts.Series("a", "#000"), charts.Series("b", "#111")]),
        charts.heat_map("h", "Heat", ["1"], ["1", "2"], [[0, 4]], "rows", "columns"),
        charts.sankey("s", "Flows", [("IT", "DE", 3), ("GR", "DE", 1), ("IT", "FR", 2)]),
        charts.sankey("e", "Nothing", []),
    ]
    for svg in drawn:
        assert "style=" not in svg and "<script" not in svg
        assert 'role="img"' in svg and "<title" in svg
    assert "&lt;DE&gt;" in drawn[0] and "<DE>" not in drawn[0]
    assert drawn[2].count("<path") == 3


def test_errors_are_remembered_by_event_name_only() -> None:
    event = {"event": "gallery_snapshot_failed", "level": "error", "detail": "secret"}
    assert remember_errors(None, "error", dict(event)) == event
    remember_errors(None, "info", {"event": "request", "level": "info"})
    latest = recent_errors()[0]
    assert latest.event == "gallery_snapshot_failed"
    assert "secret" not in latest.model_dump_json()
    assert all(error.event != "request" for error in recent_errors())
