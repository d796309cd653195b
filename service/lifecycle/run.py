"""Running a lifecycle command in the single writer from a request."""

from __future__ import annotations

import asyncio

from service.runtime import Runtime
from service.writer.commands import Command


async def run_command(runtime: Runtime, command: Command) -> object:
    """The command's value; its ServiceError, if it refused, is raised here."""
    result = await asyncio.wrap_future(runtime.pipeline.submit(command))
    if isinstance(result, BaseException):
        raise result
    return result
