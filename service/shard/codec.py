"""Matcher types to protocol messages and back. Templates travel as raw float32 bytes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import matcher
from service.shard.protocol import shard_pb2 as pb
from service.writer.commands import AddEntry, IndexChange, MarkEntry, RemoveEntry


def templates_to_pb(templates: matcher.Templates) -> pb.Templates:
    return pb.Templates(
        fingers=[pb.Finger(position=position,
                           vector=np.asarray(vector, dtype="<f4").tobytes())
                 for position, vector in sorted(templates.fingers.items())],
        face=b"" if templates.face is None else np.asarray(templates.face, "<f4").tobytes(),
    )


def templates_from_pb(message: pb.Templates) -> matcher.Templates:
    fingers = {finger.position: np.frombuffer(finger.vector, dtype="<f4").astype(np.float32)
               for finger in message.fingers}
    face = np.frombuffer(message.face, dtype="<f4").astype(np.float32) if message.face else None
    return matcher.Templates(fingers, face)


def eligibility_to_pb(eligible: matcher.Eligibility) -> pb.Eligibility:
    return pb.Eligibility(
        groups=sorted(eligible.groups), marked_only_groups=sorted(eligible.marked_only_groups),
        exclude_member_state=-1 if eligible.exclude_member_state is None
        else eligible.exclude_member_state,
    )


def eligibility_from_pb(message: pb.Eligibility) -> matcher.Eligibility:
    return matcher.Eligibility(
        frozenset(message.groups), frozenset(message.marked_only_groups),
        None if message.exclude_member_state < 0 else message.exclude_member_state,
    )


def outcome_to_pb(outcome: matcher.SearchOutcome) -> pb.Outcome:
    return pb.Outcome(hits=[
        pb.Hit(entry_id=hit.entry_id, score=hit.score,
               face=hit.modality is matcher.Modality.FACE,
               fingers_compared=hit.fingers_compared)
        for hit in outcome.hits
    ])


def hits_from_pb(message: pb.Outcome) -> list[matcher.Hit]:
    return [matcher.Hit(hit.entry_id, hit.score,
                        matcher.Modality.FACE if hit.face else matcher.Modality.FINGERPRINT,
                        hit.fingers_compared)
            for hit in message.hits]


def change_to_pb(change: IndexChange) -> pb.Change:
    if isinstance(change, AddEntry):
        return pb.Change(add=pb.Entry(
            dataset_id=change.dataset_id, templates=templates_to_pb(change.templates),
            group=change.meta.group, member_state=change.meta.member_state,
            marked=change.meta.marked))
    if isinstance(change, RemoveEntry):
        return pb.Change(remove=change.dataset_id)
    return pb.Change(mark=pb.Mark(dataset_id=change.dataset_id, marked=change.marked))


def changes_from_pb(messages: Sequence[pb.Change]) -> list[IndexChange]:
    changes: list[IndexChange] = []
    for message in messages:
        kind = message.WhichOneof("op")
        if kind == "add":
            entry = message.add
            changes.append(AddEntry(entry.dataset_id, templates_from_pb(entry.templates),
                                    matcher.EntryMeta(entry.group, entry.member_state,
                                                      entry.marked)))
        elif kind == "remove":
            changes.append(RemoveEntry(message.remove))
        elif kind == "mark":
            changes.append(MarkEntry(message.mark.dataset_id, message.mark.marked))
    return changes
