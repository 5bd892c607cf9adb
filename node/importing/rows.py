"""Reading agency extracts: CSV or JSON Lines, streamed, each row validated into a typed value.

The schema is in README.md ("Agency data import"). A file holds person records or information
items; which one is told by its columns. Every problem is reported as file:line:field: reason,
without echoing the personal data that was in the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from node.errors import DomainError
from node.matching.nhs import PLACEHOLDERS
from node.matching.normalise import DateError, first_forename, parse_date

PERSON_FIELDS = (
    "record_id",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "nhs_number",
)
ITEM_FIELDS = ("item_ref", "record_id", "date", "category", "summary", "detail", "sensitivity")
SENSITIVITIES = ("standard", "sensitive", "highly-sensitive")
_LIMITS = {
    "record_id": 100,
    "item_ref": 100,
    "forenames": 200,
    "surname": 200,
    "gender": 40,
    "address": 500,
    "postcode": 20,
    "nhs_number": 20,
    "category": 100,
    "summary": 500,
    "detail": 20_000,
}
_EXTRA_LIMIT = 1_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
SURNAME_REQUIRED = "is required unless the row has an NHS number, or a forename and a date of birth"


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.field}: {self.reason}"


class RowInvalid(Exception):
    """One or more fields of a row are invalid."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors


@dataclass(frozen=True)
class PersonRow:
    line: int
    record_id: str
    forenames: str
    surname: str
    aliases: tuple[str, ...]
    date_of_birth: dt.date | None
    gender: str
    address: str
    postcode: str
    nhs_number: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemRow:
    line: int
    item_ref: str
    record_id: str
    occurred_on: dt.date
    category: str
    summary: str
    detail: str
    sensitivity: str


class FileRefused(DomainError):
    """The file as a whole cannot be read (format, encoding, header)."""


class ByteCounter(io.RawIOBase):
    """Wraps a binary file and reports the bytes read so far, for the progress bar."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._on_read(len(data))
        return len(data)


def detect_kind(columns: list[str], where: str) -> str:
    """'persons' or 'items', by the columns present."""
    has = set(columns)
    if "surname" in has and "item_ref" not in has:
        return "persons"
    if "item_ref" in has and "surname" not in has:
        return "items"
    raise FileRefused(
        f"{where}: cannot tell what the file holds: a persons file has a 'surname' column, "
        "an items file an 'item_ref' column (see README, Agency data import)"
    )


def open_rows(
    path: Path, on_read: Callable[[int], None] | None = None
) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    """The file's kind and an iterator of (line number, raw fields). Streams; never loads it whole."""
    name = str(path)
    if not path.is_file():
        raise FileRefused(f"{name}: no such file")
    raw: BinaryIO = path.open("rb")
    stream: BinaryIO = raw
    if on_read is not None:
        stream = io.BufferedReader(ByteCounter(raw, on_read), buffer_size=1 << 16)  # type: ignore[arg-type]
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(text, name)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(text, name)
    text.close()
    raise FileRefused(f"{name}: unknown file type {suffix!r}; use .csv or .jsonl")


def _csv_rows(
    text: io.TextIOWrapper, name: str
) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise FileRefused(f"{name}:1: the file is empty (a header row is needed)") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        text.close()
        raise FileRefused(f"{name}:1: cannot read the header row: {_decode_reason(exc)}") from None
    header = [column.strip() for column in header]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated or "" in header:
        text.close()
        raise FileRefused(f"{name}:1: header has empty or repeated columns {duplicated or ['']}")
    kind = detect_kind(header, f"{name}:1")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        with text:
            line = 1
            try:
                for values in reader:
                    line = reader.line_num
                    if not values or values == [""]:
                        continue
                    if len(values) != len(header):
                        yield (
                            line,
                            {"__error__": f"has {len(values)} values, header has {len(header)}"},
                        )
                        continue
                    yield line, dict(zip(header, values, strict=True))
            except (UnicodeDecodeError, csv.Error) as exc:
                yield line + 1, {"__error__": f"cannot be read: {_decode_reason(exc)}"}

    return kind, rows()


def _jsonl_rows(
    text: io.TextIOWrapper, name: str
) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    lines = enumerate(text, start=1)
    first: tuple[int, dict[str, Any]] | None = None
    try:
        for number, raw_line in lines:
            if raw_line.strip():
                first = (number, _json_object(raw_line))
                break
    except UnicodeDecodeError as exc:
        text.close()
        raise FileRefused(f"{name}: cannot be read: {_decode_reason(exc)}") from None
    if first is None:
        text.close()
        raise FileRefused(f"{name}:1: the file is empty")
    if "__error__" in first[1]:
        text.close()
        raise FileRefused(f"{name}:{first[0]}: {first[1]['__error__']}")
    kind = detect_kind(list(first[1]), f"{name}:{first[0]}")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        with text:
            yield first
            number = first[0]
            try:
                for number, raw_line in lines:
                    if raw_line.strip():
                        yield number, _json_object(raw_line)
            except UnicodeDecodeError as exc:
                yield number + 1, {"__error__": f"cannot be read: {_decode_reason(exc)}"}

    return kind, rows()


def _json_object(raw_line: str) -> dict[str, Any]:
    try:
        value = json.loads(raw_line)
    except json.JSONDecodeError as exc:
        return {"__error__": f"not valid JSON ({exc.msg} at column {exc.colno})"}
    if not isinstance(value, dict):
        return {"__error__": "each line must be a JSON object"}
    return value


def _decode_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save the extract as UTF-8)"
    return str(exc)


def parse_person(line: int, raw: dict[str, Any]) -> PersonRow:
    """Validate one person row; raise RowInvalid naming every bad field."""
    errors: list[tuple[str, str]] = []
    values = _strings(raw, PERSON_FIELDS, errors)
    if not values["record_id"]:
        errors.append(("record_id", "is required"))
    aliases = _aliases(raw.get("aliases"), errors)
    date_of_birth = _date(values["date_of_birth"], "date_of_birth", errors)
    if date_of_birth is not None and not (_EARLIEST_BIRTH <= date_of_birth <= dt.date.today()):
        errors.append(("date_of_birth", "is in the future or before 1900"))
    nhs = values["nhs_number"].replace(" ", "").replace("-", "")
    if nhs and not (len(nhs) == 10 and nhs.isdigit()):
        errors.append(("nhs_number", "must be 10 digits (spaces and hyphens allowed)"))
    if not values["surname"] and not _identified_without_surname(
        values["forenames"], date_of_birth, nhs
    ):
        errors.append(("surname", SURNAME_REQUIRED))
    extra = {}
    for key, value in raw.items():
        if key in PERSON_FIELDS or key == "__error__":
            continue
        text = _scalar_text(value)
        if text is None:
            errors.append((key, "free fields must be text, numbers or empty"))
        elif len(text) > _EXTRA_LIMIT:
            errors.append((key, f"longer than {_EXTRA_LIMIT} characters"))
        elif text:
            extra[key] = text
    _involvement(extra, errors)
    if errors:
        raise RowInvalid(errors)
    return PersonRow(
        line=line,
        record_id=values["record_id"],
        forenames=values["forenames"],
        surname=values["surname"],
        aliases=aliases,
        date_of_birth=date_of_birth,
        gender=values["gender"],
        address=values["address"],
        postcode=values["postcode"],
        nhs_number=nhs,
        extra=extra,
    )


_YES = {"yes", "y", "true", "1", "open"}
_NO = {"no", "n", "false", "0", "closed", ""}


def _involvement(extra: dict[str, str], errors: list[tuple[str, str]]) -> None:
    """The optional involvement columns: `open_case` yes or no, `since` a date (both kept
    normalised); `worker` and `team` are free text."""
    if "open_case" in extra:
        flag = extra["open_case"].strip().lower()
        if flag in _YES:
            extra["open_case"] = "yes"
        elif flag in _NO:
            extra["open_case"] = "no"
        else:
            errors.append(("open_case", "must be yes or no"))
    if "since" in extra:
        since = _date(extra["since"], "since", errors)
        if since is not None:
            extra["since"] = since.isoformat()


def _identified_without_surname(forenames: str, born: dt.date | None, nhs: str) -> bool:
    """Whether a row without a surname still identifies someone: an NHS number (ten digits, not
    a placeholder such as 0000000000), or a forename (not "Baby" or "Unknown") and a date of
    birth."""
    if len(nhs) == 10 and nhs.isdigit() and nhs not in PLACEHOLDERS:
        return True
    return born is not None and bool(first_forename(forenames))


def parse_item(line: int, raw: dict[str, Any]) -> ItemRow:
    """Validate one information-item row; raise RowInvalid naming every bad field."""
    errors: list[tuple[str, str]] = []
    values = _strings(raw, ITEM_FIELDS, errors)
    for required in ("item_ref", "record_id", "date", "category", "summary"):
        if not values[required] and not any(f == required for f, _ in errors):
            errors.append((required, "is required"))
    occurred_on = _date(values["date"], "date", errors)
    if occurred_on is not None and occurred_on > dt.date.today():
        errors.append(("date", "is in the future"))
    sensitivity = values["sensitivity"] or "standard"
    if sensitivity not in SENSITIVITIES:
        errors.append(("sensitivity", f"must be one of {', '.join(SENSITIVITIES)}"))
    unknown = sorted(set(raw) - set(ITEM_FIELDS) - {"__error__"})
    if unknown:
        errors.append((unknown[0], f"unknown column(s) {', '.join(unknown)} in an items file"))
    if errors:
        raise RowInvalid(errors)
    assert occurred_on is not None
    return ItemRow(
        line=line,
        item_ref=values["item_ref"],
        record_id=values["record_id"],
        occurred_on=occurred_on,
        category=values["category"],
        summary=values["summary"],
        detail=values["detail"],
        sensitivity=sensitivity,
    )


def _strings(
    raw: dict[str, Any], names: tuple[str, ...], errors: list[tuple[str, str]]
) -> dict[str, str]:
    values = {}
    for name in names:
        value = raw.get(name)
        if value.__class__ is str and name != "aliases":  # a CSV field always, JSON's mostly
            values[name] = value.strip()
            continue
        text = "" if name == "aliases" else _scalar_text(value)  # _aliases reads aliases
        if text is None:
            errors.append((name, "must be text"))
            text = ""
        values[name] = text.strip()
    for name, limit in _limits(names):
        if len(values[name]) > limit:
            errors.append((name, f"longer than {limit} characters"))
    if _CONTROL.search("".join(values.values())):  # one search a row; per field only when found
        errors.extend(
            (name, "contains control characters") for name in names if _CONTROL.search(values[name])
        )
    if errors:  # reported field by field, in the schema's order
        errors.sort(key=lambda error: names.index(error[0]))
    return values


@lru_cache(maxsize=8)
def _limits(names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    return tuple((name, _LIMITS[name]) for name in names if name in _LIMITS)


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _aliases(value: Any, errors: list[tuple[str, str]]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        names = [part.strip() for part in value.split(";")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value]
    else:
        errors.append(("aliases", "must be names separated by ';' (CSV) or a list of names (JSON)"))
        return ()
    names = [n for n in names if n]
    if any(len(n) > 200 for n in names):
        errors.append(("aliases", "an alias is longer than 200 characters"))
    return tuple(names)


def _date(text: str, name: str, errors: list[tuple[str, str]]) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except DateError:
        errors.append(
            (
                name,
                "is not a date in an accepted form (YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, 3 Mar 2015)",
            )
        )
        return None
