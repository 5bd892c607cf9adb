from protos.mash.federation.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitReportRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SignedEnvelope
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.SignedEnvelope, _Mapping]] = ...) -> None: ...

class ReportPayload(_message.Message):
    __slots__ = ("header", "figures")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    header: _envelope_pb2.RequestHeader
    figures: MonthlyFigures
    def __init__(self, header: _Optional[_Union[_envelope_pb2.RequestHeader, _Mapping]] = ..., figures: _Optional[_Union[MonthlyFigures, _Mapping]] = ...) -> None: ...

class MonthlyFigures(_message.Message):
    __slots__ = ("month", "schema_version", "generated_at_ms", "software_version", "counts", "statistics")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    month: str
    schema_version: int
    generated_at_ms: int
    software_version: str
    counts: _containers.RepeatedCompositeFieldContainer[Count]
    statistics: _containers.RepeatedCompositeFieldContainer[Statistic]
    def __init__(self, month: _Optional[str] = ..., schema_version: _Optional[int] = ..., generated_at_ms: _Optional[int] = ..., software_version: _Optional[str] = ..., counts: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., statistics: _Optional[_Iterable[_Union[Statistic, _Mapping]]] = ...) -> None: ...

class Count(_message.Message):
    __slots__ = ("family", "category", "value", "suppressed")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    family: str
    category: str
    value: int
    suppressed: bool
    def __init__(self, family: _Optional[str] = ..., category: _Optional[str] = ..., value: _Optional[int] = ..., suppressed: _Optional[bool] = ...) -> None: ...

class Statistic(_message.Message):
    __slots__ = ("family", "category", "value", "basis", "suppressed")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    family: str
    category: str
    value: float
    basis: int
    suppressed: bool
    def __init__(self, family: _Optional[str] = ..., category: _Optional[str] = ..., value: _Optional[float] = ..., basis: _Optional[int] = ..., suppressed: _Optional[bool] = ...) -> None: ...

class SubmitReportResponse(_message.Message):
    __slots__ = ("borough", "month", "outcome", "received_at_ms")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[SubmitReportResponse.Outcome]
        STORED: _ClassVar[SubmitReportResponse.Outcome]
        REPLACED: _ClassVar[SubmitReportResponse.Outcome]
        ALREADY_NEWER: _ClassVar[SubmitReportResponse.Outcome]
    OUTCOME_UNSPECIFIED: SubmitReportResponse.Outcome
    STORED: SubmitReportResponse.Outcome
    REPLACED: SubmitReportResponse.Outcome
    ALREADY_NEWER: SubmitReportResponse.Outcome
    BOROUGH_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    borough: str
    month: str
    outcome: SubmitReportResponse.Outcome
    received_at_ms: int
    def __init__(self, borough: _Optional[str] = ..., month: _Optional[str] = ..., outcome: _Optional[_Union[SubmitReportResponse.Outcome, str]] = ..., received_at_ms: _Optional[int] = ...) -> None: ...
