from protos.mash.federation.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckPayload(_message.Message):
    __slots__ = ("header", "blinded_elements", "epoch")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    BLINDED_ELEMENTS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    blinded_elements: _containers.RepeatedScalarFieldContainer[bytes]
    epoch: int
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., blinded_elements: _Optional[_Iterable[bytes]] = ..., epoch: _Optional[int] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("epoch", "evaluated_elements", "proof")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_ELEMENTS_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    evaluated_elements: _containers.RepeatedScalarFieldContainer[bytes]
    proof: bytes
    def __init__(self, epoch: _Optional[int] = ..., evaluated_elements: _Optional[_Iterable[bytes]] = ..., proof: _Optional[bytes] = ...) -> None: ...

class FilterRequest(_message.Message):
    __slots__ = ("epoch",)
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    def __init__(self, epoch: _Optional[int] = ...) -> None: ...

class FilterDeltaRequest(_message.Message):
    __slots__ = ("epoch", "since_sequence")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    since_sequence: int
    def __init__(self, epoch: _Optional[int] = ..., since_sequence: _Optional[int] = ...) -> None: ...

class FilterChunk(_message.Message):
    __slots__ = ("data", "trailer")
    DATA_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    trailer: FilterTrailer
    def __init__(self, data: _Optional[bytes] = ..., trailer: _Optional[_Union[FilterTrailer, _Mapping]] = ...) -> None: ...

class FilterTrailer(_message.Message):
    __slots__ = ("epoch", "sequence", "size", "digest", "signature", "key_id", "oprf_public_key", "kind", "borough", "since_sequence")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    OPRF_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    sequence: int
    size: int
    digest: bytes
    signature: bytes
    key_id: str
    oprf_public_key: bytes
    kind: str
    borough: str
    since_sequence: int
    def __init__(self, epoch: _Optional[int] = ..., sequence: _Optional[int] = ..., size: _Optional[int] = ..., digest: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ..., oprf_public_key: _Optional[bytes] = ..., kind: _Optional[str] = ..., borough: _Optional[str] = ..., since_sequence: _Optional[int] = ...) -> None: ...
