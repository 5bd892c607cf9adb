"""Export of the audit log for a date range, as CSV or JSON Lines: who, when, what and why.

Rows stream from the store in seq order, so an export of any size runs in constant memory. In
CSV, a text cell that a spreadsheet would run as a formula (starting with ``= + - @``, tab or
carriage return) is prefixed with a single quote, as OWASP advises against CSV injection; JSON
Lines output is written exactly as stored, with ``detail`` as a JSON object.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TextIO

from sqlalchemy.orm import Session

from node.access import Actor, require_audit_reader
from node.audit.chain import AuditRecord, format_time
from node.audit.log import entries, record
from node.errors import DomainError
from node.store.models import AuditEntry

FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "actor_agency",
    "action",
    "object_ref",
    "purpose",
    "detail",
)
FORMATS = ("csv", "jsonl")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_for(
    session: Session,
    actor: Actor,
    start: dt.date,
    end: dt.date,
    purpose: str,
    output: Callable[[], AbstractContextManager[TextIO]],
    fmt: str = "csv",
) -> int:
    """An auditor's or administrator's export: checked and audited (with its purpose) before a
    line is written to the stream `output` opens; returns how many entries it wrote."""
    require_audit_reader(actor)
    if not purpose.strip():
        raise DomainError("say why the audit log is being read", field="purpose")
    if end < start:
        raise DomainError(f"the range ends ({end}) before it starts ({start})", field="to")
    record(
        session, actor, "audit.export", purpose=purpose, detail={"from": str(start), "to": str(end)}
    )
    with output() as out:
        return export(session, start, end, out, fmt)


def export(session: Session, start: dt.date, end: dt.date, out: TextIO, fmt: str = "csv") -> int:
    """Write the entries made on days `start` to `end` (inclusive, UTC) to `out`; return how many.

    For CSV, open `out` with ``newline=""``; the first row names the columns.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if end < start:
        raise ValueError(f"export range ends ({end}) before it starts ({start})")
    write = _csv_writer(out) if fmt == "csv" else _jsonl_writer(out)
    count = 0
    for entry in entries(session, *_on_days(start, end)):
        write(entry)
        count += 1
    return count


def _on_days(start: dt.date, end: dt.date) -> tuple[Any, ...]:
    """Conditions for `at` within the days, by text order (the stored times are fixed width)."""
    first = format_time(dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC))
    after = format_time(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
    return (AuditEntry.at >= first, AuditEntry.at < after)


def _csv_writer(out: TextIO) -> Callable[[AuditRecord], None]:
    writer = csv.writer(out)
    writer.writerow(FIELDS)

    def write(entry: AuditRecord) -> None:
        writer.writerow([entry.seq, *(_cell(getattr(entry, name)) for name in FIELDS[1:])])

    return write


def _jsonl_writer(out: TextIO) -> Callable[[AuditRecord], None]:
    def write(entry: AuditRecord) -> None:
        row = {name: getattr(entry, name) for name in FIELDS}
        row["detail"] = _parsed(entry.detail)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")

    return write


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _parsed(detail: str) -> Any:
    try:
        return json.loads(detail)
    except ValueError:
        return detail
