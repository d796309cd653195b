"""The console in a real browser: sign-in, every page with data, filters, refusals, session
expiry; no CSP violation, no request off the server, no serious WCAG 2.1 AA violation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.audit.models import AuditEventRow
from tests.console.browser import (
    browser,
    context,
    csp_violations,
    screenshot,
    serious_accessibility_violations,
)
from tests.console.server import ConsoleServer, Population

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as launched:
        yield launched


def sign_in(page: Any, key: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def check_page(page: Any, watch: Any, name: str) -> None:
    """The page as shipped: photographed, accessible, and within its security policy."""
    screenshot(page, name)
    assert csp_violations(page, watch) == [], name
    assert watch.foreign_requests == [], name
    assert serious_accessibility_violations(page) == [], name


def last_events(server: ConsoleServer, count: int) -> list[dict[str, Any]]:
    with server.runtime.sessions() as session:
        rows = session.query(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(count)
        return [json.loads(row.body) for row in rows if row.body]


def test_supervisor_sees_every_oversight_page(
    chromium: Any, server: ConsoleServer, population: Population
) -> None:
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        sign_in_page = page.goto("/console/sign-in")
        assert sign_in_page is not None and sign_in_page.status == 200
        check_page(page, watch, "sign-in")
        sign_in(page, server.key("EU", "supervisor"))
        assert page.url.endswith("/console/audit")
        cookie = next(c for c in ctx.cookies() if c["name"] == "abis_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert not cookie["secure"]  # plain HTTP here; under TLS the cookie is Secure
        assert server.key("EU", "supervisor") not in cookie["value"]
        nav = page.get_by_role("navigation", name="Console pages")
        assert nav.get_by_role("link").all_inner_texts() == [
            "Audit", "Integrity", "Statistics", "Movements"]
        rows = page.locator("table.events tbody tr")
        assert rows.count() >= 25
        assert page.get_by_text("dataset:transmit").count() > 0
        check_page(page, watch, "audit")

        # Filters: a Member State and an operation; then who touched one dataset.
        page.select_option("#member_state", "DE")
        page.select_option("#operation", "dataset:mark")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        marks = page.locator("table.events tbody tr")
        assert marks.count() == 1 and "dataset:mark" in marks.inner_text()
        page.goto(f"/console/audit/datasets/{population.german_applicant}")
        history = page.locator("table.events tbody").inner_text()
        assert "dataset:transmit" in history and "dataset:mark" in history
        assert "dataset:read" in history
        check_page(page, watch, "audit-dataset")
        page.locator("table.events tbody tr a").first.click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Audit event").count() == 1
        assert population.german_applicant in page.inner_text("main")
        check_page(page, watch, "audit-event")

        # Export what is shown: the filtered events as JSON Lines, then the checkpoints.
        page.goto("/console/audit?member_state=DE&operation=dataset%3Amark")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export these events").click()
        exported_text = Path(download.value.path()).read_text(encoding="utf-8")
        lines = [json.loads(line) for line in exported_text.splitlines()]
        assert lines[0]["format"] == "abis-audit-export/1"
        exported = [line["event"] for line in lines if "event" in line]
        assert [e["event"]["operation"] for e in exported] == ["dataset:mark"]

        page.goto("/console/integrity")
        assert "Last signed checkpoint" in page.inner_text("main")
        page.get_by_role("button", name="Run verification").click()
        page.wait_for_load_state()
        assert "The chain verifies" in page.inner_text("main")
        check_page(page, watch, "integrity")

        page.goto(f"/console/statistics?from={population.month}&to={population.month}")
        text = page.inner_text("main")
        assert "Hit matrix" in text and page.locator("svg.chart").count() >= 3
        tiles = page.locator(".tile").all_inner_texts()
        assert any(t.startswith("21") and "datasets transmitted" in t for t in tiles), tiles
        assert any(t.startswith("1") and "false hits" in t for t in tiles), tiles
        check_page(page, watch, "statistics")

        page.goto(f"/console/movements?from={population.month}&to={population.month}")
        flows = page.locator("table.numbers tbody tr").all_inner_texts()
        assert "IT\tDE\t3" in flows and not any(f.startswith("GR\tAT") for f in flows)
        page.select_option("#category", "3")
        page.get_by_role("button", name="Show").click()
        page.wait_for_load_state()
        assert page.locator("table.numbers tbody tr").all_inner_texts() == [
            "HR\tAT\t1", "IT\tDE\t1"]  # searches of category 3 only
        page.goto(f"/console/movements?from={population.month}&to={population.month}")
        check_page(page, watch, "movements")

        assert page.goto("/console/system").status == 403  # type: ignore[union-attr]
    reads = last_events(server, 40)
    operations = {(e["route"], e["operation"]) for e in reads}
    assert ("/console/movements", "statistics:read") in operations
    assert ("/console/integrity/verify", "audit:verify") in operations
    assert ("/console/system", "system:status") in operations
    system = next(e for e in reads if e["route"] == "/console/system")
    assert system["status"] == 403 and system["problem"] == "forbidden"


def test_national_supervisor_sees_its_member_state_only(
    chromium: Any, server: ConsoleServer, population: Population
) -> None:
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        sign_in(page, server.key("FR", "supervisor"))
        assert page.locator("#member_state option").all_inner_texts() == ["FR"]
        seen = page.locator("table.events tbody").inner_text()
        assert "FR" in seen and "GR · officer" not in seen  # GR's own events never involve FR
        check_page(page, watch, "audit-national")
        answer = page.goto("/console/audit?member_state=DE")
        assert answer is not None and answer.status == 403
        assert "sees its own Member State only" in page.inner_text("main")
        page.goto(f"/console/audit/datasets/{population.german_applicant}")
        assert page.locator("table.events tbody").inner_text().count("dataset:") == 0


def test_operator_and_admin_see_what_their_roles_may(
    chromium: Any, server: ConsoleServer, population: Population
) -> None:
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        runtime = server.runtime
        assert runtime.snapshotter is not None and runtime.sweeper is not None
        runtime.snapshotter.save()
        runtime.sweeper.sweep_once()  # nothing has expired: one chunk, none erased
        sign_in(page, server.key("EU", "operator"))
        assert page.url.endswith("/console/system")
        main = page.inner_text("main")
        assert "datasets in the gallery" in main and "Last written" in main
        sweeps = page.locator("table.numbers").nth(1).locator("tbody tr").all_inner_texts()
        assert len(sweeps) == 1 and sweeps[0].endswith("\t0"), sweeps
        assert page.locator(".tile .n").first.inner_text() == str(
            len(server.runtime.gallery))
        check_page(page, watch, "system")
        refused = page.goto("/console/audit")
        assert refused is not None and refused.status == 403
        assert page.goto("/console/statistics").status == 403  # type: ignore[union-attr]
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        sign_in(page, server.key("EU", "admin"))
        nav = page.get_by_role("navigation", name="Console pages")
        assert nav.get_by_role("link").all_inner_texts() == ["Statistics", "Movements", "System"]
        assert page.goto("/console/integrity").status == 403  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["officer", "law_enforcement"])
def test_officers_and_law_enforcement_are_refused(
    chromium: Any, server: ConsoleServer, role: str
) -> None:
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        sign_in(page, server.key("DE", role))
        assert page.url.split("?")[0].endswith("/console/sign-in")
        assert f"not for the {role} role" in page.inner_text("main")
        if role == "officer":
            check_page(page, watch, "refused")
        assert not any(c["name"] == "abis_console" for c in ctx.cookies())
        assert page.goto("/console/audit").url.split("?")[0].endswith(  # type: ignore[union-attr]
            "/console/sign-in")


def test_a_wrong_key_is_refused(chromium: Any, server: ConsoleServer) -> None:
    with context(chromium, server.url) as (ctx, _):
        page = ctx.new_page()
        sign_in(page, "abis_000000000000_not-a-real-secret")
        assert "not valid" in page.inner_text("main")
    refused = last_events(server, 5)
    assert any(e["operation"] == "console:sign-in" and e["status"] == 401
               and e["presented_key_id"] == "000000000000" for e in refused)


def test_the_session_expires(chromium: Any, server: ConsoleServer, clock_reset: None) -> None:
    with context(chromium, server.url) as (ctx, _):
        page = ctx.new_page()
        sign_in(page, server.key("EU", "supervisor"))
        assert page.url.endswith("/console/audit")
        lifetime = server.runtime.settings.console_session_seconds
        server.clock.offset += dt.timedelta(seconds=lifetime - 5)
        page.goto("/console/statistics")
        assert page.url.endswith("/console/statistics")
        server.clock.offset += dt.timedelta(seconds=10)
        page.goto("/console/statistics")
        assert "/console/sign-in" in page.url and "expired=1" in page.url
        assert "Your session has ended" in page.inner_text("main")
        page.get_by_label("API key").fill(server.key("EU", "supervisor"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert page.url.endswith("/console/statistics")  # back where the session ended


def test_sign_out_ends_the_session(chromium: Any, server: ConsoleServer) -> None:
    with context(chromium, server.url) as (ctx, _):
        page = ctx.new_page()
        sign_in(page, server.key("EU", "supervisor"))
        stolen = next(c for c in ctx.cookies() if c["name"] == "abis_console")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        assert page.url.endswith("/console/sign-in")
        ctx.add_cookies([stolen])  # a copy kept from before is dead too
        page.goto("/console/audit")
        assert "/console/sign-in" in page.url


def test_api_docs_work_offline(chromium: Any, server: ConsoleServer) -> None:
    with context(chromium, server.url) as (ctx, watch):
        page = ctx.new_page()
        page.goto("/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() > 10
        screenshot(page, "api-docs", full_page=False)
        page.goto("/redoc")
        page.wait_for_selector("h1", timeout=20_000)
        assert page.locator("[data-section-id]").count() > 10
        page.wait_for_load_state("networkidle")
        assert watch.foreign_requests == []  # ReDoc's logo link is blocked by the docs' CSP
