from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetNodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeIdentity(_message.Message):
    __slots__ = ("borough", "borough_name", "verify_key", "key_id", "box_public_key", "oprf_public_key", "oprf_epoch", "key_set_version", "software_version")
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    BOROUGH_NAME_FIELD_NUMBER: _ClassVar[int]
    VERIFY_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    BOX_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_EPOCH_FIELD_NUMBER: _ClassVar[int]
    KEY_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    borough: str
    borough_name: str
    verify_key: bytes
    key_id: str
    box_public_key: bytes
    oprf_public_key: bytes
    oprf_epoch: int
    key_set_version: int
    software_version: str
    def __init__(self, borough: _Optional[str] = ..., borough_name: _Optional[str] = ..., verify_key: _Optional[bytes] = ..., key_id: _Optional[str] = ..., box_public_key: _Optional[bytes] = ..., oprf_public_key: _Optional[bytes] = ..., oprf_epoch: _Optional[int] = ..., key_set_version: _Optional[int] = ..., software_version: _Optional[str] = ...) -> None: ...
