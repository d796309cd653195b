"""Samples of the gallery read from the store, the source of truth: every dataset's id, and the
decrypted templates of chosen ones (as the loader opens them). For what needs templates where
the gallery does not hold them in this process: the shards' writer (the threshold follower's
calibration sample, the normalisation cohort) and `abis calibrate`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import open_templates
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow

_ID_CHUNK = 50_000


class StoreSample:
    def __init__(self, sessions: sessionmaker[Session], master: MasterKey) -> None:
        self._sessions = sessions
        self._master = master

    def ids(self) -> npt.NDArray[np.int64]:
        """Every stored dataset's id (every one is in the gallery, ABIS_SHARDS or not)."""
        with self._sessions() as session:
            found = session.scalars(select(DatasetRow.id).order_by(DatasetRow.id)
                                    .execution_options(yield_per=_ID_CHUNK))
            return np.fromiter(found, dtype=np.int64)

    def templates(self, ids: Sequence[int]) -> dict[int, matcher.Templates]:
        """The templates of those of `ids` still stored (an erased one is simply absent)."""
        held: dict[int, matcher.Templates] = {}
        with self._sessions() as session:
            for chunk in in_chunks(list(ids)):
                for row in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk))):
                    held[row.id] = open_templates(self._master, row)
                session.expunge_all()  # flat memory over a 20,000-dataset calibration sample
        return held
