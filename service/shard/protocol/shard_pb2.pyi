from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Finger(_message.Message):
    __slots__ = ("position", "vector")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    position: int
    vector: bytes
    def __init__(self, position: _Optional[int] = ..., vector: _Optional[bytes] = ...) -> None: ...

class Templates(_message.Message):
    __slots__ = ("fingers", "face")
    FINGERS_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    fingers: _containers.RepeatedCompositeFieldContainer[Finger]
    face: bytes
    def __init__(self, fingers: _Optional[_Iterable[_Union[Finger, _Mapping]]] = ..., face: _Optional[bytes] = ...) -> None: ...

class Eligibility(_message.Message):
    __slots__ = ("groups", "marked_only_groups", "exclude_member_state")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    MARKED_ONLY_GROUPS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_MEMBER_STATE_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedScalarFieldContainer[int]
    marked_only_groups: _containers.RepeatedScalarFieldContainer[int]
    exclude_member_state: int
    def __init__(self, groups: _Optional[_Iterable[int]] = ..., marked_only_groups: _Optional[_Iterable[int]] = ..., exclude_member_state: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("epoch", "min_seq", "probes", "eligibles", "finger_threshold", "face_threshold", "limit")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    MIN_SEQ_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLES_FIELD_NUMBER: _ClassVar[int]
    FINGER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FACE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    min_seq: int
    probes: _containers.RepeatedCompositeFieldContainer[Templates]
    eligibles: _containers.RepeatedCompositeFieldContainer[Eligibility]
    finger_threshold: float
    face_threshold: float
    limit: int
    def __init__(self, epoch: _Optional[int] = ..., min_seq: _Optional[int] = ..., probes: _Optional[_Iterable[_Union[Templates, _Mapping]]] = ..., eligibles: _Optional[_Iterable[_Union[Eligibility, _Mapping]]] = ..., finger_threshold: _Optional[float] = ..., face_threshold: _Optional[float] = ..., limit: _Optional[int] = ...) -> None: ...

class Hit(_message.Message):
    __slots__ = ("entry_id", "score", "face", "fingers_compared")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    FINGERS_COMPARED_FIELD_NUMBER: _ClassVar[int]
    entry_id: int
    score: float
    face: bool
    fingers_compared: int
    def __init__(self, entry_id: _Optional[int] = ..., score: _Optional[float] = ..., face: _Optional[bool] = ..., fingers_compared: _Optional[int] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    def __init__(self, hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ...) -> None: ...

class SearchReply(_message.Message):
    __slots__ = ("outcomes", "applied_seq", "epoch", "size", "rechecked")
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    RECHECKED_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    applied_seq: int
    epoch: int
    size: int
    rechecked: int
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ..., applied_seq: _Optional[int] = ..., epoch: _Optional[int] = ..., size: _Optional[int] = ..., rechecked: _Optional[int] = ...) -> None: ...

class Entry(_message.Message):
    __slots__ = ("dataset_id", "templates", "group", "member_state", "marked")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_STATE_FIELD_NUMBER: _ClassVar[int]
    MARKED_FIELD_NUMBER: _ClassVar[int]
    dataset_id: int
    templates: Templates
    group: int
    member_state: int
    marked: bool
    def __init__(self, dataset_id: _Optional[int] = ..., templates: _Optional[_Union[Templates, _Mapping]] = ..., group: _Optional[int] = ..., member_state: _Optional[int] = ..., marked: _Optional[bool] = ...) -> None: ...

class Mark(_message.Message):
    __slots__ = ("dataset_id", "marked")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    MARKED_FIELD_NUMBER: _ClassVar[int]
    dataset_id: int
    marked: bool
    def __init__(self, dataset_id: _Optional[int] = ..., marked: _Optional[bool] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("add", "remove", "mark")
    ADD_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    MARK_FIELD_NUMBER: _ClassVar[int]
    add: Entry
    remove: int
    mark: Mark
    def __init__(self, add: _Optional[_Union[Entry, _Mapping]] = ..., remove: _Optional[int] = ..., mark: _Optional[_Union[Mark, _Mapping]] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("epoch", "from_seq", "upto_seq", "changes")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQ_FIELD_NUMBER: _ClassVar[int]
    UPTO_SEQ_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    from_seq: int
    upto_seq: int
    changes: _containers.RepeatedCompositeFieldContainer[Change]
    def __init__(self, epoch: _Optional[int] = ..., from_seq: _Optional[int] = ..., upto_seq: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[Change, _Mapping]]] = ...) -> None: ...

class ApplyReply(_message.Message):
    __slots__ = ("applied_seq", "size")
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    applied_seq: int
    size: int
    def __init__(self, applied_seq: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...
