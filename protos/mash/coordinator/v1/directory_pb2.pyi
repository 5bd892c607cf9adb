from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrolRequest(_message.Message):
    __slots__ = ("token_id", "body", "mac", "signature")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    body: bytes
    mac: bytes
    signature: bytes
    def __init__(self, token_id: _Optional[str] = ..., body: _Optional[bytes] = ..., mac: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class EnrolBody(_message.Message):
    __slots__ = ("borough", "csr_pem", "endpoint", "verify_key", "box_key", "oprf_public_key", "oprf_epoch", "timestamp_ms", "nonce", "software_version")
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_KEY_FIELD_NUMBER: _ClassVar[int]
    BOX_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_EPOCH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    borough: str
    csr_pem: str
    endpoint: str
    verify_key: bytes
    box_key: bytes
    oprf_public_key: bytes
    oprf_epoch: int
    timestamp_ms: int
    nonce: bytes
    software_version: str
    def __init__(self, borough: _Optional[str] = ..., csr_pem: _Optional[str] = ..., endpoint: _Optional[str] = ..., verify_key: _Optional[bytes] = ..., box_key: _Optional[bytes] = ..., oprf_public_key: _Optional[bytes] = ..., oprf_epoch: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., nonce: _Optional[bytes] = ..., software_version: _Optional[str] = ...) -> None: ...

class EnrolResponse(_message.Message):
    __slots__ = ("body", "mac")
    BODY_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    mac: bytes
    def __init__(self, body: _Optional[bytes] = ..., mac: _Optional[bytes] = ...) -> None: ...

class EnrolGrant(_message.Message):
    __slots__ = ("request_nonce", "certificate_pem", "ca_certificate_pem", "directory_key", "coordinator_address", "directory_version")
    REQUEST_NONCE_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_KEY_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_nonce: bytes
    certificate_pem: str
    ca_certificate_pem: str
    directory_key: bytes
    coordinator_address: str
    directory_version: int
    def __init__(self, request_nonce: _Optional[bytes] = ..., certificate_pem: _Optional[str] = ..., ca_certificate_pem: _Optional[str] = ..., directory_key: _Optional[bytes] = ..., coordinator_address: _Optional[str] = ..., directory_version: _Optional[int] = ...) -> None: ...

class GetDirectoryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SignedDirectory(_message.Message):
    __slots__ = ("body", "signature")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    signature: bytes
    def __init__(self, body: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class DirectoryBody(_message.Message):
    __slots__ = ("version", "issued_at_ms", "expires_at_ms", "nodes")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    version: int
    issued_at_ms: int
    expires_at_ms: int
    nodes: _containers.RepeatedCompositeFieldContainer[DirectoryEntry]
    def __init__(self, version: _Optional[int] = ..., issued_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[DirectoryEntry, _Mapping]]] = ...) -> None: ...

class DirectoryEntry(_message.Message):
    __slots__ = ("borough", "name", "endpoint", "verify_key", "box_key", "oprf_public_key", "oprf_epoch", "certificate_sha256", "enrolled_at_ms", "revoked", "revoked_reason", "revoked_at_ms")
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_KEY_FIELD_NUMBER: _ClassVar[int]
    BOX_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OPRF_EPOCH_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SHA256_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_REASON_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    borough: str
    name: str
    endpoint: str
    verify_key: bytes
    box_key: bytes
    oprf_public_key: bytes
    oprf_epoch: int
    certificate_sha256: bytes
    enrolled_at_ms: int
    revoked: bool
    revoked_reason: str
    revoked_at_ms: int
    def __init__(self, borough: _Optional[str] = ..., name: _Optional[str] = ..., endpoint: _Optional[str] = ..., verify_key: _Optional[bytes] = ..., box_key: _Optional[bytes] = ..., oprf_public_key: _Optional[bytes] = ..., oprf_epoch: _Optional[int] = ..., certificate_sha256: _Optional[bytes] = ..., enrolled_at_ms: _Optional[int] = ..., revoked: _Optional[bool] = ..., revoked_reason: _Optional[str] = ..., revoked_at_ms: _Optional[int] = ...) -> None: ...
