"""The node's domain errors: one base that carries the field it is about and a stable code.

Every adapter maps a refusal the same way without reading its text: the web UI puts `message` on
the form field `field` names (or above the form), the CLI prints `str(error)` ("field: message"),
and the gRPC servicers turn `code` into a status code. A service raises the most specific kind.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """What kind of refusal an error is; stable, so adapters can map it (HTTP, gRPC, exit)."""

    INVALID = "invalid"  # the input is wrong: fix the named field
    NOT_FOUND = "not-found"  # no such thing (or none this actor may know of)
    FORBIDDEN = "forbidden"  # the actor may not do this
    CONFLICT = "conflict"  # the thing changed or is in the wrong state for this step
    LIMITED = "limited"  # too many attempts or requests for now
    UNAVAILABLE = "unavailable"  # something this step needs is not there (a store, a key)


class DomainError(Exception):
    """A step the node refuses as asked. `message` is for a person and never names the field;
    `field` is the path of the input it is about ("rationale", "people[1].date_of_birth"), or
    None when it is about the whole request."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(
        self, message: str, *, field: str | None = None, code: ErrorCode | None = None
    ) -> None:
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(f"{field}: {message}" if field else message)


def sentence(text: str) -> str:
    """A message as the start of a sentence, for pages and prompts."""
    text = text.strip()
    return text[:1].upper() + text[1:]
