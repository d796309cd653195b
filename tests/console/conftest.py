"""One console server and population per test module (SQLite: the pages read through the same
use cases the API routes use, which the PostgreSQL suites cover)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.console.server import ConsoleServer, Population, console_server, populate


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def population(server: ConsoleServer) -> Population:
    return populate(server)


@pytest.fixture
def clock_reset(server: ConsoleServer) -> Iterator[None]:
    """Tests that move the server's clock put it back."""
    before = server.clock.offset
    yield
    server.clock.offset = before
