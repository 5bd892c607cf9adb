from protos.mash.federation.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignedRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class RequestPayload(_message.Message):
    __slots__ = ("header", "idempotency_key", "urgency", "sealed_body")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    SEALED_BODY_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    idempotency_key: str
    urgency: str
    sealed_body: bytes
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., urgency: _Optional[str] = ..., sealed_body: _Optional[bytes] = ...) -> None: ...

class RequestBody(_message.Message):
    __slots__ = ("referral_reference", "pathway", "reason", "lawful_basis", "adult_basis", "person", "asked_by", "contact_route")
    REFERRAL_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    PATHWAY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LAWFUL_BASIS_FIELD_NUMBER: _ClassVar[int]
    ADULT_BASIS_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ASKED_BY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ROUTE_FIELD_NUMBER: _ClassVar[int]
    referral_reference: str
    pathway: str
    reason: str
    lawful_basis: str
    adult_basis: str
    person: Person
    asked_by: str
    contact_route: str
    def __init__(self, referral_reference: _Optional[str] = ..., pathway: _Optional[str] = ..., reason: _Optional[str] = ..., lawful_basis: _Optional[str] = ..., adult_basis: _Optional[str] = ..., person: _Optional[_Union[Person, _Mapping]] = ..., asked_by: _Optional[str] = ..., contact_route: _Optional[str] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("forenames", "surname", "date_of_birth", "postcode", "address", "nhs_number", "gender")
    FORENAMES_FIELD_NUMBER: _ClassVar[int]
    SURNAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NHS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    forenames: str
    surname: str
    date_of_birth: str
    postcode: str
    address: str
    nhs_number: str
    gender: str
    def __init__(self, forenames: _Optional[str] = ..., surname: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., postcode: _Optional[str] = ..., address: _Optional[str] = ..., nhs_number: _Optional[str] = ..., gender: _Optional[str] = ...) -> None: ...

class RequestRef(_message.Message):
    __slots__ = ("header", "idempotency_key", "reason")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    idempotency_key: str
    reason: str
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AnswerPayload(_message.Message):
    __slots__ = ("header", "idempotency_key", "outcome", "sealed_body")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SEALED_BODY_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    idempotency_key: str
    outcome: str
    sealed_body: bytes
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., outcome: _Optional[str] = ..., sealed_body: _Optional[bytes] = ...) -> None: ...

class AnswerBody(_message.Message):
    __slots__ = ("released", "signposts", "matched", "note", "answered_by")
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    SIGNPOSTS_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    released: _containers.RepeatedCompositeFieldContainer[ReleasedItem]
    signposts: _containers.RepeatedCompositeFieldContainer[Signpost]
    matched: bool
    note: str
    answered_by: str
    def __init__(self, released: _Optional[_Iterable[_Union[ReleasedItem, _Mapping]]] = ..., signposts: _Optional[_Iterable[_Union[Signpost, _Mapping]]] = ..., matched: _Optional[bool] = ..., note: _Optional[str] = ..., answered_by: _Optional[str] = ...) -> None: ...

class ReleasedItem(_message.Message):
    __slots__ = ("agency", "title", "content", "reference", "lawful_basis")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LAWFUL_BASIS_FIELD_NUMBER: _ClassVar[int]
    agency: str
    title: str
    content: str
    reference: str
    lawful_basis: str
    def __init__(self, agency: _Optional[str] = ..., title: _Optional[str] = ..., content: _Optional[str] = ..., reference: _Optional[str] = ..., lawful_basis: _Optional[str] = ...) -> None: ...

class Signpost(_message.Message):
    __slots__ = ("agency", "contact_route", "reference")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ROUTE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    agency: str
    contact_route: str
    reference: str
    def __init__(self, agency: _Optional[str] = ..., contact_route: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class Acknowledgement(_message.Message):
    __slots__ = ("state", "repeated", "deadline_ms")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPEATED_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    state: str
    repeated: bool
    deadline_ms: int
    def __init__(self, state: _Optional[str] = ..., repeated: _Optional[bool] = ..., deadline_ms: _Optional[int] = ...) -> None: ...
