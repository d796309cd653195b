"""The app of one `abis api` worker process (uvicorn imports it by name in each worker)."""

from __future__ import annotations

from fastapi import FastAPI

from service.api.app import create_app
from service.logging_setup import configure_logging
from service.runtime import Runtime
from service.settings import Settings


def create_api_worker_app() -> FastAPI:
    """A stateless worker: the ABIS_* settings, every write through the writer at ABIS_WRITER."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, Runtime.build_api(settings))
