"""The writer's queue as the use cases see it: submit a work item, read its depth."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from service.writer.commands import WorkItem, WorkResult


class WorkQueue(Protocol):
    """The writer's queue: in this process (BatchPipeline) or remote (RemoteWriter)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 30.0) -> None: ...

    def submit(self, item: WorkItem, *, urgent: bool = False) -> Future[WorkResult]: ...

    @property
    def depth(self) -> int:
        """Items waiting (in process: queued for the writer; remote: awaited from it)."""
        ...

    @property
    def batches(self) -> int | None:
        """Batches committed by this process's writer (None where the writer is remote)."""
        ...

    def waiting(self) -> dict[str, int]: ...
