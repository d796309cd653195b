"""The oversight console at /console: server-rendered pages over the API's own use cases, for
supervisors, admins and operators. `install` adds its routes, assets and headers to the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.console.headers import ConsoleHeaders
from service.console.web import HERE


def install(app: FastAPI) -> None:
    from service.console import routes_audit, routes_session, routes_statistics, routes_system

    for module in (routes_session, routes_audit, routes_statistics, routes_system):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_middleware(ConsoleHeaders)
