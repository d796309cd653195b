"""Oversight views beyond the raw audit log and monthly counters: movements between Member
States revealed by hits (anonymous counts), and the state of a running service."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from schemas.codes import Category


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MovementFlow(_Strict):
    """Hits by which a person first registered in `origin` turned up in `destination`."""

    origin: str  # Member State of the matched (earlier) dataset
    destination: str  # Member State that transmitted the search
    count: int


class MovementsReport(_Strict):
    """Anonymous counts of hits between Member States (false hits excluded); no reference
    numbers, no persons."""

    since: dt.date
    until: dt.date  # exclusive
    category: Category | None  # the searching category, when filtered
    flows: list[MovementFlow]


class PartitionSize(_Strict):
    name: str
    datasets: int
    bytes: int | None = None  # None: held by a shard server, which reports only its size


class SweepRun(_Strict):
    at: dt.datetime
    erased: int


class RecentError(_Strict):
    at: dt.datetime
    event: str


class SystemStatus(_Strict):
    ready: bool
    partitions: list[PartitionSize]
    queue_depth: int  # work items waiting for the writer
    batches_written: int | None  # None in an API worker: the writer process counts them
    snapshot_file: bool  # whether this process keeps a gallery snapshot
    snapshot_age_seconds: float | None  # None when no snapshot exists yet
    sweep_interval_seconds: float
    sweeps: list[SweepRun]  # latest first
    recent_errors: list[RecentError]  # latest first, this process only
