"""Running a lifecycle command in the single writer from a request."""

from __future__ import annotations

import asyncio

from service.writer.commands import Command
from service.writer.queue import WorkQueue


async def run_command(queue: WorkQueue, command: Command) -> object:
    """The command's value; its ServiceError, if it refused, is raised here."""
    result = await asyncio.wrap_future(queue.submit(command))
    if isinstance(result, BaseException):
        raise result
    return result
