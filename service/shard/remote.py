"""The writer's side of the shards: ABIS_SHARDS lists partitions (`,`) and their replicas (`|`).

A search goes to one replica of every partition in parallel, carrying the writer's epoch and the
committed sequence; a replica that is down, loading or behind is skipped for the next one; a
partition no replica answers fails the whole search (GalleryUnavailable: a 503, never a "no
hit"). Answers are merged by score and cut at the limit (hits are threshold-defined, so the
union is exact). Committed changes are pushed to every replica of their partition; a replica
that misses a push cannot answer a later search before it has read the change from the log.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

import matcher
from service.errors import ConfigurationError, GalleryUnavailable, WriterFenced
from service.settings import Settings
from service.shard import codec
from service.shard.protocol import shard_pb2 as pb
from service.shard.rpc_server import CHANNEL_OPTIONS
from service.shard.server import SERVICE
from service.shard.tls import channel_credentials, require_tls_off_loopback
from service.writer.cohort import CohortKeeper
from service.writer.commands import IndexChange
from service.writer.gallery import Answered, Searched, normalised_search

_log = structlog.get_logger(__name__)
# A replica that comes back is used again within a couple of seconds, not after gRPC's default
# reconnect backoff (up to two minutes).
_CLIENT_OPTIONS = [*CHANNEL_OPTIONS, ("grpc.initial_reconnect_backoff_ms", 200),
                   ("grpc.min_reconnect_backoff_ms", 200),
                   ("grpc.max_reconnect_backoff_ms", 2000)]


def parse_shards(value: str) -> list[list[str]]:
    """'a|b,c' -> [['a', 'b'], ['c']]; ConfigurationError on an empty part."""
    partitions = [[replica.strip() for replica in part.split("|")] for part in value.split(",")]
    for replicas in partitions:
        for address in replicas:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigurationError(f"ABIS_SHARDS: {address!r} is not host:port")
    return partitions


@dataclass
class Replica:
    address: str
    channel: Any
    search: Any
    apply: Any
    stale: bool = False  # missed a push or failed a call: asked last until it answers again


def _fenced(error: grpc.RpcError) -> bool:
    return bool(error.code() == grpc.StatusCode.PERMISSION_DENIED)


class RemoteGallery:
    def __init__(self, config: matcher.MatcherConfig, partitions: list[list[Replica]],
                 epoch: int, timeout: float, cohort: CohortKeeper | None = None) -> None:
        self._config = config
        # ABIS_SCORE_NORMALISATION=cohort: kept here, in the writer, not in the shards (see
        # service.writer.cohort): one cohort per probe whatever the partitioning, and every
        # erasure passes through `apply` below before it is acknowledged.
        self.cohort = cohort
        self._partitions = partitions
        self._epoch = epoch
        self._timeout = timeout
        self._sizes = [0] * len(partitions)
        self._turn = itertools.count()
        self._pool = futures.ThreadPoolExecutor(
            max_workers=max(4, sum(len(replicas) for replicas in partitions)),
            thread_name_prefix="abis-shard-call")

    @classmethod
    def connect(cls, settings: Settings, epoch: int, cohort: CohortKeeper | None = None
                ) -> RemoteGallery:
        from service.runtime import matcher_config

        assert settings.shards is not None
        credentials = channel_credentials(settings)
        partitions = []
        for replicas in parse_shards(settings.shards):
            group = []
            for address in replicas:
                require_tls_off_loopback(address, credentials is not None)
                channel = (grpc.insecure_channel(address, options=_CLIENT_OPTIONS)
                           if credentials is None else
                           grpc.secure_channel(address, credentials, options=_CLIENT_OPTIONS))
                group.append(Replica(
                    address, channel,
                    channel.unary_unary(f"/{SERVICE}/Search",
                                        request_serializer=pb.SearchRequest.SerializeToString,
                                        response_deserializer=pb.SearchReply.FromString),
                    channel.unary_unary(f"/{SERVICE}/Apply",
                                        request_serializer=pb.ApplyRequest.SerializeToString,
                                        response_deserializer=pb.ApplyReply.FromString)))
            partitions.append(group)
        gallery = cls(matcher_config(settings), partitions, epoch, settings.shard_timeout_seconds,
                      cohort)
        gallery.announce()
        return gallery

    @property
    def config(self) -> matcher.MatcherConfig:
        return self._config

    @property
    def partitions(self) -> int:
        return len(self._partitions)

    @property
    def epoch(self) -> int:
        return self._epoch

    def __len__(self) -> int:
        return sum(self._sizes)  # as the replicas last reported

    def set_thresholds(self, finger_threshold: float, face_threshold: float) -> None:
        """Replace the default thresholds (the threshold follower, once its audit event is
        committed): the shards take thresholds with every request, so the next search sends
        these; one running keeps the config it started with."""
        self._config = dataclasses.replace(self._config, finger_threshold=finger_threshold,
                                           face_threshold=face_threshold)  # validates them

    @property
    def sizes(self) -> tuple[int, ...]:
        """Datasets per partition, as its replicas last reported."""
        return tuple(self._sizes)

    def announce(self) -> None:
        """Tell every reachable replica our epoch at once (an empty push): from now on they
        refuse the writer we replaced."""
        for index, replicas in enumerate(self._partitions):
            for replica in replicas:
                try:
                    reply = replica.apply(pb.ApplyRequest(epoch=self._epoch),
                                          timeout=self._timeout)
                    self._sizes[index] = int(reply.size)
                except grpc.RpcError as error:
                    if _fenced(error):
                        raise WriterFenced("a shard knows a newer writer epoch") from None
                    replica.stale = True

    # -- search -----------------------------------------------------------------------------

    def search(self, probes: Sequence[matcher.Templates],
               eligibles: Sequence[matcher.Eligibility], *,
               finger_threshold: float | None = None, face_threshold: float | None = None,
               limit: int | None = None, min_seq: int = 0,
               prepared: matcher.PreparedBatch | None = None) -> Searched:
        del prepared  # the replicas prepare what they receive
        if len(probes) != len(eligibles):
            raise ValueError("probes and eligibles must have the same length")
        config = self._config  # one set of thresholds for the whole search
        finger = config.finger_threshold if finger_threshold is None else finger_threshold
        face = config.face_threshold if face_threshold is None else face_threshold
        if self.cohort is not None:
            return normalised_search(self.cohort, self._raw, probes, eligibles, finger_z=finger,
                                     face_threshold=face, limit=limit, min_seq=min_seq)
        return self._raw(probes, eligibles, finger_threshold=finger, face_threshold=face,
                         limit=limit, min_seq=min_seq)

    def _raw(self, probes: Sequence[matcher.Templates],
             eligibles: Sequence[matcher.Eligibility], *, finger_threshold: float,
             face_threshold: float | None, limit: int | None, min_seq: int) -> Searched:
        if not probes:
            return Searched([], committed_seq=min_seq)
        request = pb.SearchRequest(
            epoch=self._epoch, min_seq=min_seq,
            probes=[codec.templates_to_pb(probe) for probe in probes],
            eligibles=[codec.eligibility_to_pb(eligible) for eligible in eligibles],
            finger_threshold=finger_threshold,
            face_threshold=(self._config.face_threshold if face_threshold is None
                            else face_threshold),
            limit=limit or 0,
        )
        turn = next(self._turn)
        calls = [self._pool.submit(self._search_partition, index, request, turn)
                 for index in range(len(self._partitions))]
        answers = [call.result() for call in calls]
        merged: list[list[matcher.Hit]] = [[] for _ in probes]
        for reply, _ in answers:
            for hits, outcome in zip(merged, reply.outcomes, strict=True):
                hits.extend(codec.hits_from_pb(outcome))
        outcomes = []
        for hits in merged:
            hits.sort(key=lambda hit: (-hit.score, hit.entry_id))
            outcomes.append(matcher.SearchOutcome(tuple(hits[:limit] if limit else hits)))
        coverage = tuple(Answered(index, address, int(reply.epoch))
                         for index, (reply, address) in enumerate(answers))
        return Searched(outcomes, coverage, min_seq)

    def _order(self, index: int, turn: int) -> list[Replica]:
        """Replicas in turn (spreading load), those that failed lately last."""
        replicas = self._partitions[index]
        start = turn % len(replicas)
        rotated = replicas[start:] + replicas[:start]
        return sorted(rotated, key=lambda replica: replica.stale)

    def _search_partition(self, index: int, request: pb.SearchRequest, turn: int
                          ) -> tuple[pb.SearchReply, str]:
        for replica in self._order(index, turn):
            try:
                reply = replica.search(request, timeout=self._timeout)
            except grpc.RpcError as error:
                if _fenced(error):
                    raise WriterFenced("a shard knows a newer writer epoch") from None
                _log.warning("shard_search_failed", partition=index, replica=replica.address,
                             code=str(error.code()))
                replica.stale = True
                continue
            if reply.applied_seq < request.min_seq or len(reply.outcomes) != len(request.probes):
                replica.stale = True  # never trust an answer from behind the committed state
                continue
            replica.stale = False
            self._sizes[index] = int(reply.size)
            return reply, replica.address
        raise GalleryUnavailable(
            f"no replica of partition {index} could answer; retry shortly", partition=index)

    # -- changes ----------------------------------------------------------------------------

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        if upto is None:
            return
        self._push(changes, after, upto)
        if self.cohort is not None:
            self.cohort.follow(changes)  # an erased member leaves the cohort before the ack

    def _push(self, changes: Sequence[IndexChange], after: int, upto: int) -> None:
        parts: list[list[pb.Change]] = [[] for _ in self._partitions]
        for change in changes:
            parts[change.dataset_id % len(parts)].append(codec.change_to_pb(change))
        calls = {}
        for index, replicas in enumerate(self._partitions):
            request = pb.ApplyRequest(epoch=self._epoch, from_seq=after, upto_seq=upto,
                                      changes=parts[index])
            for replica in replicas:
                call = self._pool.submit(replica.apply, request, timeout=self._timeout)
                if replica.stale:
                    # Not waited for: a replica that failed lately cannot answer a search
                    # before it has the change (min_seq), so it must not stall every batch.
                    call.add_done_callback(functools.partial(self._settled, replica))
                else:
                    calls[call] = (index, replica)
        for call in futures.as_completed(calls):
            index, replica = calls[call]
            try:
                reply = call.result()
            except grpc.RpcError as error:
                # Fenced: the batch is committed all the same (the database checked our epoch
                # in its transaction); our next search is refused and so is the next commit.
                _log.warning("shard_apply_failed", partition=index, replica=replica.address,
                             code=str(error.code()))
                replica.stale = True  # it reads the change from the log before it answers
                continue
            self._sizes[index] = int(reply.size)

    @staticmethod
    def _settled(replica: Replica, call: futures.Future[Any]) -> None:
        replica.stale = call.exception() is not None

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        for replicas in self._partitions:
            for replica in replicas:
                replica.channel.close()
