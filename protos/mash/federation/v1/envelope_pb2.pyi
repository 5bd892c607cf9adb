from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SignedEnvelope(_message.Message):
    __slots__ = ("payload", "signature", "borough", "key_id")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    signature: bytes
    borough: str
    key_id: str
    def __init__(self, payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., borough: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class RequestHeader(_message.Message):
    __slots__ = ("borough", "timestamp_ms", "nonce", "key_set_version", "referral_reference", "purpose", "user_pseudonym")
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    KEY_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    USER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    borough: str
    timestamp_ms: int
    nonce: bytes
    key_set_version: int
    referral_reference: str
    purpose: str
    user_pseudonym: str
    def __init__(self, borough: _Optional[str] = ..., timestamp_ms: _Optional[int] = ..., nonce: _Optional[bytes] = ..., key_set_version: _Optional[int] = ..., referral_reference: _Optional[str] = ..., purpose: _Optional[str] = ..., user_pseudonym: _Optional[str] = ...) -> None: ...
