"""The coordinator's domain errors: one base that carries the field it is about and a stable code.

The codes are the strings mash_common/status.py maps to gRPC statuses (the node's are the same),
so every adapter maps a refusal without reading its text: the web UI puts `message` on the form
field `field` names, the CLI prints `str(error)`, the gRPC servicer returns the status.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"  # the input is wrong: fix the named field
    NOT_FOUND = "not-found"  # no such thing
    FORBIDDEN = "forbidden"  # the actor may not do this
    CONFLICT = "conflict"  # the thing changed since, or is in the wrong state for this step
    LIMITED = "limited"  # too many attempts for now
    UNAVAILABLE = "unavailable"  # something this step needs is not there (a store, a key)


class DomainError(Exception):
    """A step the coordinator refuses as asked. `message` is for a person and never names the
    field; `field` is the input it is about ("due_on", "counts[3]"), or None."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(
        self, message: str, *, field: str | None = None, code: ErrorCode | None = None
    ) -> None:
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(f"{field}: {message}" if field else message)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class ChangedSince(DomainError):
    """Someone else changed the thing after the editor's form was made from it: who and when."""

    code = ErrorCode.CONFLICT

    def __init__(self, what: str, by: str, at: dt.datetime | None, version: int) -> None:
        when = at.strftime("%-d %B %Y at %H:%M UTC") if at else "since"
        super().__init__(
            f"{what} was changed by {by} on {when} while you were editing it. Your changes are "
            "still in the form: check them against the current values and save again."
        )
        self.by = by
        self.at = at
        self.version = version


def sentence(text: str) -> str:
    """A message as the start of a sentence, for pages and prompts."""
    text = text.strip()
    return text[:1].upper() + text[1:]
