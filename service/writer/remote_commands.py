"""Lifecycle commands rebuilt by a remote writer from their kind and JSON arguments (the
`Command.spec` the API worker sent): the same constructors as in the embedded service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.lifecycle import DatasetUpdate, ErasureReason, MarkReason
from service.audit.events import RequestAudit
from service.auth import Caller
from service.crypto import MasterKey
from service.lifecycle.changes import amend, erase, extend, set_mark
from service.lifecycle.false_hits import report_false_hit
from service.writer.commands import Command

Builder = Callable[[dict[str, Any], Caller, RequestAudit | None], Command]


def command_builder(master: MasterKey) -> Callable[[str, Any, Caller, RequestAudit | None],
                                                   Command]:
    builders: dict[str, Builder] = {
        "amend": lambda a, caller, audit: amend(
            str(a["reference_number"]), DatasetUpdate.model_validate(a["update"]), caller,
            master, audit),
        "mark": lambda a, caller, audit: set_mark(
            str(a["reference_number"]), None if a["reason"] is None else MarkReason(a["reason"]),
            caller, audit),
        "extend": lambda a, caller, audit: extend(str(a["reference_number"]), caller, audit),
        "erase": lambda a, caller, audit: erase(
            str(a["reference_number"]), ErasureReason(a["reason"]), caller, audit),
        "false-hit": lambda a, caller, audit: report_false_hit(int(a["hit_id"]), caller, audit),
    }

    def build(kind: str, arguments: Any, caller: Caller, audit: RequestAudit | None) -> Command:
        if kind not in builders or not isinstance(arguments, dict):
            raise ValueError(f"unknown command {kind!r}")
        return builders[kind](arguments, caller, audit)

    return build
