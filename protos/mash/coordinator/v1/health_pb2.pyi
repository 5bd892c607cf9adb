from protos.mash.federation.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HeartbeatRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class HeartbeatPayload(_message.Message):
    __slots__ = ("header", "software_version", "key_set_version", "filter_epoch", "filter_size", "reports_queued", "requests_undelivered", "requests_open", "answers_undelivered", "last_import_at_ms", "directory_version")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEY_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILTER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    FILTER_SIZE_FIELD_NUMBER: _ClassVar[int]
    REPORTS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_UNDELIVERED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_OPEN_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_UNDELIVERED_FIELD_NUMBER: _ClassVar[int]
    LAST_IMPORT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    software_version: str
    key_set_version: int
    filter_epoch: int
    filter_size: int
    reports_queued: int
    requests_undelivered: int
    requests_open: int
    answers_undelivered: int
    last_import_at_ms: int
    directory_version: int
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., software_version: _Optional[str] = ..., key_set_version: _Optional[int] = ..., filter_epoch: _Optional[int] = ..., filter_size: _Optional[int] = ..., reports_queued: _Optional[int] = ..., requests_undelivered: _Optional[int] = ..., requests_open: _Optional[int] = ..., answers_undelivered: _Optional[int] = ..., last_import_at_ms: _Optional[int] = ..., directory_version: _Optional[int] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("received_at_ms",)
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    received_at_ms: int
    def __init__(self, received_at_ms: _Optional[int] = ...) -> None: ...

class AuditCheckpoint(_message.Message):
    __slots__ = ("size", "head_hash", "signed_at", "verify_key", "signature")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    size: int
    head_hash: bytes
    signed_at: str
    verify_key: bytes
    signature: bytes
    def __init__(self, size: _Optional[int] = ..., head_hash: _Optional[bytes] = ..., signed_at: _Optional[str] = ..., verify_key: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class CheckpointsRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class CheckpointsPayload(_message.Message):
    __slots__ = ("header", "checkpoints")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    checkpoints: _containers.RepeatedCompositeFieldContainer[AuditCheckpoint]
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., checkpoints: _Optional[_Iterable[_Union[AuditCheckpoint, _Mapping]]] = ...) -> None: ...

class CheckpointsResponse(_message.Message):
    __slots__ = ("stored", "already_held", "inconsistencies")
    STORED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_HELD_FIELD_NUMBER: _ClassVar[int]
    INCONSISTENCIES_FIELD_NUMBER: _ClassVar[int]
    stored: int
    already_held: int
    inconsistencies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stored: _Optional[int] = ..., already_held: _Optional[int] = ..., inconsistencies: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCheckpointsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HeldCheckpoints(_message.Message):
    __slots__ = ("checkpoints", "inconsistencies")
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    INCONSISTENCIES_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[AuditCheckpoint]
    inconsistencies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[AuditCheckpoint, _Mapping]]] = ..., inconsistencies: _Optional[_Iterable[str]] = ...) -> None: ...
