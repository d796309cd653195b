"""The access table covers every route, drives every role check, the docs and the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from service.api.app import create_app
from service.api.deps import authorize
from service.auth.policy import POLICY, access_for, markdown_table
from service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(dev=True, data_dir=tmp_path_factory.mktemp("data")))


def _routes(app: FastAPI) -> list[tuple[str, str, BaseRoute]]:
    """Every (method, path, route) of the API, included routers flattened. The console's pages
    (`/console/...`) are views admitted by the rows of the API routes they show (checked
    below), not routes of their own."""
    return [(method, context.path, context.original_route)
            for context in iter_route_contexts(app.routes) if context.path is not None
            and not _is_console(context.path)
            for method in sorted(context.methods or ()) if method != "HEAD"]


def _is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


def test_every_console_page_is_a_view_of_a_keyed_route_in_the_table() -> None:
    from service.console.access import CONSOLE_ROLES, PAGES, page_roles

    for page, (method, path) in PAGES.items():
        access = access_for(method, path)
        assert access is not None and not access.public, f"{page} shows {method} {path}"
        assert page_roles(page) == access.roles
        assert page_roles(page) <= CONSOLE_ROLES, f"{page} admits a role the console refuses"


def test_every_route_of_the_app_has_a_row_in_the_table(app: FastAPI) -> None:
    missing = [f"{method} {path}" for method, path, _ in _routes(app)
               if access_for(method, path) is None]
    assert not missing, f"add these routes to service/auth/policy.py POLICY: {missing}"


def test_every_row_of_the_table_is_a_route_of_the_app(app: FastAPI) -> None:
    served = {(method, path) for method, path, _ in _routes(app)}
    stale = [access.route for access in POLICY if (access.method, access.path) not in served]
    assert not stale, f"POLICY rows without a route: {stale}"


def test_every_keyed_route_is_authorized_by_the_table(app: FastAPI) -> None:
    unchecked = []
    for method, path, route in _routes(app):
        access = access_for(method, path)
        if access is None or access.public or not isinstance(route, APIRoute):
            continue
        calls = [dependency.call for dependency in route.dependant.dependencies]
        if authorize not in calls:
            unchecked.append(f"{method} {path}")
    assert not unchecked, f"routes without the policy dependency (AUTHORIZED): {unchecked}"


def test_the_readme_api_table_is_the_generated_one() -> None:
    text = README.read_text()
    start = text.index("<!-- api-table")
    start = text.index("\n", start) + 1
    end = text.index("<!-- /api-table -->")
    assert text[start:end] == markdown_table(), (
        "README's API table differs from service/auth/policy.py: paste markdown_table()")


def test_the_openapi_document_states_who_may_call_and_every_problem(app: FastAPI) -> None:
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            access = access_for(method.upper(), path)
            assert access is not None
            assert operation["x-abis-access"]["member_states"] == access.reach.value
            assert f"**Who may call:** {access.who()}" in operation["description"]
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method, path, status)
            if not access.public:
                assert {"401", "403", "429"} <= set(operation["responses"])
