"""The FastAPI application: routes, problem handlers, middleware, and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import console
from service.api import docs, openapi, problems
from service.api.middleware import BodyLimit, RequestContext
from service.api.routes import (
    audit,
    bulk,
    datasets,
    health,
    hits,
    lifecycle,
    metrics,
    notifications,
    oversight,
    problem_types,
    statistics,
    transmissions,
)
from service.metrics.http import RequestMetrics
from service.runtime import Runtime
from service.settings import Settings


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """The app; builds its runtime at startup unless one is given (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime or Runtime.build(settings)
        app.state.runtime = own
        own.start()
        try:
            yield
        finally:
            own.stop()

    app = FastAPI(
        title="abis",
        version="0.1.0",
        summary="Eurodac-style biometric matching service (synthetic data only)",
        lifespan=lifespan,
        docs_url=None,  # served by `docs` from bundled assets, never a CDN
        redoc_url=None,
    )
    problems.install(app)
    openapi.install(app)
    for module in (transmissions, datasets, lifecycle, hits, notifications, statistics, audit,
                   oversight, bulk, health, problem_types, metrics):
        app.include_router(module.router)
    docs.install(app)
    console.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestContext)
    app.add_middleware(RequestMetrics)  # outermost: sees the final status and the whole time
    return app
