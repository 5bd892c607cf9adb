"""Which gRPC status each refusal gets: one table, keyed by the refusal's stable code string.

The codes are node.errors.ErrorCode's values (matched by string, so that nothing here imports
the node) and mash_common.errors.Refusal's. A caller reads the code back from the
`mash-error-code` trailing metadata (`error_code_of`), and the field a DomainError is about from
`mash-error-field`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import grpc

from mash_common.errors import Refusal

ERROR_CODE_KEY = "mash-error-code"
ERROR_FIELD_KEY = "mash-error-field"

STATUS_OF_CODE: Mapping[str, grpc.StatusCode] = MappingProxyType(
    {
        # a domain error's code (node.errors.ErrorCode)
        "invalid": grpc.StatusCode.INVALID_ARGUMENT,
        "not-found": grpc.StatusCode.NOT_FOUND,
        "forbidden": grpc.StatusCode.PERMISSION_DENIED,
        "conflict": grpc.StatusCode.FAILED_PRECONDITION,
        "limited": grpc.StatusCode.RESOURCE_EXHAUSTED,
        "unavailable": grpc.StatusCode.UNAVAILABLE,
        # a refused peer or envelope (mash_common.errors.Refusal)
        Refusal.UNIDENTIFIED_PEER: grpc.StatusCode.UNAUTHENTICATED,
        Refusal.WRONG_BOROUGH: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.UNKNOWN_KEY: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.BAD_SIGNATURE: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.MALFORMED: grpc.StatusCode.INVALID_ARGUMENT,
        Refusal.STALE: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.REPLAYED: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.KEY_SET_VERSION: grpc.StatusCode.FAILED_PRECONDITION,
        Refusal.ENROLMENT_REFUSED: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.REVOKED: grpc.StatusCode.PERMISSION_DENIED,
        Refusal.NOT_IN_DIRECTORY: grpc.StatusCode.PERMISSION_DENIED,
    }
)


def status_of(code: object) -> grpc.StatusCode | None:
    """The status of an error's `code`, or None if the code is not one of the table's."""
    return STATUS_OF_CODE.get(str(code)) if isinstance(code, str) else None


def error_code_of(error: grpc.RpcError) -> str | None:
    """The refusal code a server sent with a failed call's status, if any."""
    trailing = getattr(error, "trailing_metadata", None)
    for key, value in (trailing() if callable(trailing) else None) or ():
        if key == ERROR_CODE_KEY:
            return str(value)
    return None
