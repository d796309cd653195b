"""The committed generated messages are what shard.proto compiles to, and they round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import matcher
from service.shard import codec
from service.writer.commands import AddEntry, MarkEntry, RemoveEntry

PROTOCOL = Path(__file__).resolve().parents[2] / "service" / "shard" / "protocol"


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc")
    status = protoc.main(["protoc", f"-I{PROTOCOL}", f"--python_out={tmp_path}",
                          f"--pyi_out={tmp_path}", str(PROTOCOL / "shard.proto")])
    assert status == 0
    for name in ("shard_pb2.py", "shard_pb2.pyi"):
        assert (tmp_path / name).read_text() == (PROTOCOL / name).read_text(), (
            f"{name} is stale: run `make proto`")


def test_templates_and_changes_round_trip_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    templates = matcher.Templates({1: rng.standard_normal(8).astype(np.float32),
                                   7: rng.standard_normal(8).astype(np.float32)},
                                  rng.standard_normal(4).astype(np.float32))
    back = codec.templates_from_pb(codec.templates_to_pb(templates))
    assert back.fingers.keys() == templates.fingers.keys()
    for position, vector in templates.fingers.items():
        assert np.array_equal(back.fingers[position], vector)
    assert back.face is not None and templates.face is not None
    assert np.array_equal(back.face, templates.face)
    assert codec.templates_from_pb(codec.templates_to_pb(
        matcher.Templates({2: templates.fingers[1]}))).face is None
    changes = [AddEntry(5, templates, matcher.EntryMeta(3, 4, True)), RemoveEntry(6),
               MarkEntry(7, False)]
    decoded = codec.changes_from_pb([codec.change_to_pb(change) for change in changes])
    assert [type(change) for change in decoded] == [AddEntry, RemoveEntry, MarkEntry]
    assert decoded[1:] == changes[1:]
    added = decoded[0]
    assert isinstance(added, AddEntry) and added.meta == changes[0].meta  # type: ignore[union-attr]


def test_eligibility_round_trips() -> None:
    for eligible in (matcher.Eligibility(frozenset({1, 2})),
                     matcher.Eligibility(frozenset({1}), frozenset({3}), 0),
                     matcher.Eligibility(frozenset(), frozenset({3}), 31)):
        assert codec.eligibility_from_pb(codec.eligibility_to_pb(eligible)) == eligible
