from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Caller(_message.Message):
    __slots__ = ("key_id", "member_state", "unit", "role")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_STATE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    member_state: str
    unit: str
    role: str
    def __init__(self, key_id: _Optional[str] = ..., member_state: _Optional[str] = ..., unit: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class Sealed(_message.Message):
    __slots__ = ("wrapped_key", "key_id", "nonce", "ciphertext")
    WRAPPED_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    wrapped_key: bytes
    key_id: str
    nonce: bytes
    ciphertext: bytes
    def __init__(self, wrapped_key: _Optional[bytes] = ..., key_id: _Optional[str] = ..., nonce: _Optional[bytes] = ..., ciphertext: _Optional[bytes] = ...) -> None: ...

class Transmission(_message.Message):
    __slots__ = ("request", "templates", "eligibility", "transmitted_at", "retention_until", "late", "sealed")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    ELIGIBILITY_FIELD_NUMBER: _ClassVar[int]
    TRANSMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    RETENTION_UNTIL_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    request: bytes
    templates: bytes
    eligibility: bytes
    transmitted_at: str
    retention_until: str
    late: bool
    sealed: Sealed
    def __init__(self, request: _Optional[bytes] = ..., templates: _Optional[bytes] = ..., eligibility: _Optional[bytes] = ..., transmitted_at: _Optional[str] = ..., retention_until: _Optional[str] = ..., late: _Optional[bool] = ..., sealed: _Optional[_Union[Sealed, _Mapping]] = ...) -> None: ...

class Lifecycle(_message.Message):
    __slots__ = ("kind", "arguments")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    arguments: bytes
    def __init__(self, kind: _Optional[str] = ..., arguments: _Optional[bytes] = ...) -> None: ...

class WorkRequest(_message.Message):
    __slots__ = ("urgent", "caller", "audit", "transmit", "record_status", "command")
    URGENT_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    TRANSMIT_FIELD_NUMBER: _ClassVar[int]
    RECORD_STATUS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    urgent: bool
    caller: Caller
    audit: bytes
    transmit: Transmission
    record_status: int
    command: Lifecycle
    def __init__(self, urgent: _Optional[bool] = ..., caller: _Optional[_Union[Caller, _Mapping]] = ..., audit: _Optional[bytes] = ..., transmit: _Optional[_Union[Transmission, _Mapping]] = ..., record_status: _Optional[int] = ..., command: _Optional[_Union[Lifecycle, _Mapping]] = ...) -> None: ...

class Problem(_message.Message):
    __slots__ = ("kind", "detail", "context")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    detail: str
    context: bytes
    def __init__(self, kind: _Optional[str] = ..., detail: _Optional[str] = ..., context: _Optional[bytes] = ...) -> None: ...

class WorkReply(_message.Message):
    __slots__ = ("outcome", "value", "problem", "recorded", "audit")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    outcome: bytes
    value: bytes
    problem: Problem
    recorded: bool
    audit: bytes
    def __init__(self, outcome: _Optional[bytes] = ..., value: _Optional[bytes] = ..., problem: _Optional[_Union[Problem, _Mapping]] = ..., recorded: _Optional[bool] = ..., audit: _Optional[bytes] = ...) -> None: ...

class Submitted(_message.Message):
    __slots__ = ("id", "work")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORK_FIELD_NUMBER: _ClassVar[int]
    id: int
    work: WorkRequest
    def __init__(self, id: _Optional[int] = ..., work: _Optional[_Union[WorkRequest, _Mapping]] = ...) -> None: ...

class Submissions(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Submitted]
    def __init__(self, items: _Optional[_Iterable[_Union[Submitted, _Mapping]]] = ...) -> None: ...

class Answered(_message.Message):
    __slots__ = ("id", "reply", "failed")
    ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    id: int
    reply: WorkReply
    failed: str
    def __init__(self, id: _Optional[int] = ..., reply: _Optional[_Union[WorkReply, _Mapping]] = ..., failed: _Optional[str] = ...) -> None: ...

class Answers(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Answered]
    def __init__(self, items: _Optional[_Iterable[_Union[Answered, _Mapping]]] = ...) -> None: ...
