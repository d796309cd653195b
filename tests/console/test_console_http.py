"""The console and its API routes without a browser: CSRF, cookies under TLS, refusals, the
audit events of console reads, and the new oversight routes' roles and input checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from service.audit.models import AuditEventRow
from service.console.headers import CONTENT_SECURITY_POLICY
from tests.console.server import ConsoleServer, Population


def _form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@contextmanager
def _signed_in(server: ConsoleServer, role: str = "supervisor", member_state: str = "EU",
               **headers: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as browser:
        token = _form_token(browser.get("/console/sign-in"))
        answer = browser.post("/console/sign-in", data={
            "csrf": token, "api_key": server.key(member_state, role)})
        assert answer.status_code == 303, answer.text
        yield browser


def _last_event(server: ConsoleServer) -> AuditEventRow:
    with server.runtime.sessions() as session:
        row = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc())).first()
        assert row is not None
        return row


def test_sign_in_needs_the_forms_token_and_this_origin(server: ConsoleServer) -> None:
    key = server.key("EU", "supervisor")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        token = _form_token(browser.get("/console/sign-in"))
        forged = browser.post("/console/sign-in", data={"csrf": "guess", "api_key": key})
        assert forged.status_code == 403
        assert "abis_console=" not in forged.headers.get("set-cookie", "")
        elsewhere = browser.post("/console/sign-in", data={"csrf": token, "api_key": key},
                                 headers={"origin": "https://evil.example"})
        assert elsewhere.status_code == 403
    with httpx.Client(base_url=server.url, timeout=30) as fresh:  # no sign-in cookie at all
        refused = fresh.post("/console/sign-in", data={"csrf": token, "api_key": key})
        assert refused.status_code == 403


def test_pages_carry_a_strict_policy_and_no_inline_code(server: ConsoleServer,
                                                        population: Population) -> None:
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    with _signed_in(server) as browser:
        for path in ("/console/sign-in", "/console/audit", "/console/integrity",
                     "/console/statistics", "/console/movements"):
            page = browser.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["cache-control"] == "no-store"
            assert "<script" not in page.text and "style=" not in page.text, path
            assert "http://" not in page.text.replace("http://www.w3.org/2000/svg", ""), path


def test_under_tls_the_cookie_is_secure(server: ConsoleServer) -> None:
    # uvicorn trusts X-Forwarded-Proto from a loopback proxy, as behind a TLS terminator;
    # the client here speaks plain HTTP, so it is handed the Secure cookie by hand.
    tls = {"x-forwarded-proto": "https"}
    form = httpx.get(f"{server.url}/console/sign-in", headers=tls)
    assert "secure" in form.headers["set-cookie"].lower()
    signed = httpx.post(f"{server.url}/console/sign-in", headers={
        **tls, "cookie": f"abis_console_signin={form.cookies['abis_console_signin']}"},
        data={"csrf": _form_token(form), "api_key": server.key("EU", "supervisor")})
    assert signed.status_code == 303
    cookie = next(v for k, v in signed.headers.multi_items()
                  if k == "set-cookie" and v.startswith("abis_console="))
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= attributes
    assert signed.headers["strict-transport-security"].startswith("max-age=")


def test_sign_out_needs_the_sessions_token(server: ConsoleServer) -> None:
    with _signed_in(server) as browser:
        assert browser.post("/console/sign-out", data={"csrf": "guess"}).status_code == 403
        page = browser.get("/console/audit")
        assert page.status_code == 200  # still signed in
        assert browser.post("/console/sign-out", data={"csrf": _form_token(page)}
                            ).status_code == 303
        assert browser.get("/console/audit").status_code == 303


def test_a_revoked_key_ends_its_sessions(server: ConsoleServer) -> None:
    from service.auth import revoke_key

    with _signed_in(server, "admin", "EU") as browser:
        assert browser.get("/console/statistics").status_code == 200
        key_id = server.key("EU", "admin").split("_")[1]
        with server.runtime.sessions() as session:
            assert revoke_key(session, key_id, server.clock.now())
            session.commit()
        assert browser.get("/console/statistics").status_code == 303
    del server.keys[("EU", "admin")]


def test_a_forged_or_tampered_cookie_is_no_session(server: ConsoleServer) -> None:
    with _signed_in(server) as browser:
        real = browser.cookies["abis_console"]
        payload, mac = real.split(".")
        for forged in (f"{payload}.{mac[:-2]}AA", f"{payload}x.{mac}", "abc", "a.b.c"):
            browser.cookies.clear()
            browser.cookies.set("abis_console", forged, domain="127.0.0.1", path="/console")
            assert browser.get("/console/audit").status_code == 303, forged


def test_a_console_read_is_audited_like_its_api_call(server: ConsoleServer,
                                                     population: Population) -> None:
    with _signed_in(server, "supervisor", "DE") as browser:
        page = browser.get(f"/console/audit/datasets/{population.german_applicant}")
        assert page.status_code == 200
        console = _last_event(server)
        assert console.operation == "audit:query" and console.actor_member_state == "DE"
        body = console.body or ""
        assert population.german_applicant in body and "oversight (Art 41)" in body
        assert browser.get("/console/audit", params={"member_state": "FR"}).status_code == 403
        refused = _last_event(server)
        assert refused.operation == "audit:query"
        assert '"problem":"forbidden"' in (refused.body or "")
        bad = browser.get("/console/audit", params={"since": "yesterday"})
        assert bad.status_code == 422 and "not a date and time" in bad.text
    with server.client("DE", "supervisor") as api:
        answer = api.get(f"/v1/audit/datasets/{population.german_applicant}")
        assert answer.status_code == 200
    assert _last_event(server).operation == console.operation


@pytest.mark.parametrize(("path", "allowed"), [
    ("/v1/audit/checkpoints/latest", {"supervisor"}),
    ("/v1/statistics/movements?since=2026-01-01&until=2026-02-01", {"supervisor", "admin"}),
    ("/v1/system/status", {"admin", "operator"}),
])
def test_oversight_routes_admit_their_roles_only(server: ConsoleServer, population: Population,
                                                 path: str, allowed: set[str]) -> None:
    for role, state in (("officer", "DE"), ("law_enforcement", "DE"), ("supervisor", "EU"),
                        ("admin", "EU"), ("operator", "EU")):
        with server.client(state, role) as api:
            status = api.get(path).status_code
        assert status == (200 if role in allowed else 403), (path, role, status)


def test_movements_check_their_period_and_count_anonymously(
    server: ConsoleServer, population: Population
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with server.client("EU", "supervisor") as api:
        for bad in ({"since": "2026-02-01", "until": "2026-01-01"},
                    {"since": "2020-01-01", "until": "2026-01-01"},
                    {"since": "2026-01-01", "until": "2026-02-01", "category": "12"}):
            assert api.get("/v1/statistics/movements", params=bad).status_code == 422, bad
        report = api.get("/v1/statistics/movements", params={
            "since": today.isoformat(), "until": (today + dt.timedelta(days=1)).isoformat()})
    flows = {(f["origin"], f["destination"]): f["count"] for f in report.json()["flows"]}
    assert flows[("IT", "DE")] == 3 and ("GR", "AT") not in flows  # the false hit is left out
    assert all(a != b for a, b in flows)
    assert "reference" not in report.text
