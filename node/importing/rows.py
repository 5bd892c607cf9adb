"""Reading agency extracts: CSV or JSON Lines, streamed, each row validated into a typed value.

The schema is in README.md ("Agency data import"). A file holds person records or information
items; which one is told by its columns. The rules a field must meet (length, characters, JSON
shape) are in node.importing.fields. Every problem is reported as file:line:field: reason,
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
from node.importing import fields as rules
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
SURNAME_REQUIRED = "is required unless the row has an NHS number, or a forename and a date of birth"


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.field}: {self.reason}"


@dataclass(frozen=True)
class BadRow:
    """A line that is no row at all (not JSON, not an object, the wrong number of values): the
    field it is about ("row" when none) and why."""

    field: str
    reason: str


Raw = dict[str, Any] | BadRow


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
    notes: tuple[str, ...] = ()  # kept, but worth a look (rules.MIXED_SCRIPTS)


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
    """The file as a whole cannot be read (format, encoding, header): where (its line, 0 for
    the whole file, and the field it is about) and why."""

    def __init__(self, path: str, line: int, reason: str, field: str = "file") -> None:
        self.path, self.line, self.row_field, self.reason = path, line, field, reason
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


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


def detect_kind(columns: list[str], name: str, line: int) -> str:
    """'persons' or 'items', by the columns present."""
    has = set(columns)
    if "surname" in has and "item_ref" not in has:
        return "persons"
    if "item_ref" in has and "surname" not in has:
        return "items"
    raise FileRefused(
        name,
        line,
        "cannot tell what the file holds: a persons file has a 'surname' column, "
        "an items file an 'item_ref' column (see README, Agency data import)",
    )


def open_rows(
    path: Path, on_read: Callable[[int], None] | None = None
) -> tuple[str, Iterator[tuple[int, Raw]]]:
    """The file's kind and an iterator of (line number, raw fields). Streams; never loads it whole."""
    name = str(path)
    if not path.is_file():
        raise FileRefused(name, 0, "no such file")
    try:
        raw: BinaryIO = path.open("rb")
    except OSError as exc:
        raise FileRefused(
            name, 0, f"cannot be opened: {exc.strerror or type(exc).__name__}"
        ) from None
    start = raw.read(4)
    wide = "UTF-32" if start in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") else "UTF-16"
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or wide == "UTF-32":
        raw.close()
        raise FileRefused(
            name,
            1,
            f"the file is {wide} text (it starts with a {wide} byte order mark); "
            "save the extract as UTF-8",
        )
    raw.seek(0)
    stream: BinaryIO = raw
    if on_read is not None:
        stream = io.BufferedReader(ByteCounter(raw, on_read), buffer_size=1 << 16)  # type: ignore[arg-type]
    # A UTF-8 byte order mark at the start is skipped (spreadsheets write one). A byte that is
    # not UTF-8 is kept as a lone surrogate, refused at its line and field (rules.NOT_UTF8).
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(text, name)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(text, name)
    text.close()
    raise FileRefused(name, 0, f"unknown file type {suffix!r}; use .csv or .jsonl")


def _csv_rows(text: io.TextIOWrapper, name: str) -> tuple[str, Iterator[tuple[int, Raw]]]:
    reader = csv.reader(_bounded_lines(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise FileRefused(name, 1, "the file is empty (a header row is needed)") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        text.close()
        reason = f"cannot read the header row: {_decode_reason(exc)}"
        raise FileRefused(name, 1, reason) from None
    header = [column.strip() for column in header]
    problem = next(filter(None, map(rules.column_problem, header)), None)
    if problem:
        text.close()
        raise FileRefused(name, 1, problem)
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        text.close()
        raise FileRefused(name, 1, f"header has repeated columns {duplicated}")
    if len(header) > len(PERSON_FIELDS) + rules.MAX_FREE_FIELDS:
        text.close()
        raise FileRefused(
            name,
            1,
            f"header has {len(header)} columns; at most "
            f"{rules.MAX_FREE_FIELDS} besides the import's own",
        )
    kind = detect_kind(header, name, 1)

    def rows() -> Iterator[tuple[int, Raw]]:
        with text:
            line = 1
            try:
                for values in reader:
                    line = reader.line_num
                    if not values or values == [""]:
                        continue
                    if len(values) != len(header):
                        reason = f"has {len(values)} values, header has {len(header)}"
                        yield line, BadRow("row", reason)
                        continue
                    yield line, dict(zip(header, values, strict=True))
            except (UnicodeDecodeError, csv.Error) as exc:
                line = max(line + 1, reader.line_num)
                yield line, BadRow("row", f"cannot be read: {_decode_reason(exc)}")

    return kind, rows()


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The lines of a text, a line longer than rules.MAX_LINE_CHARS given in pieces of that
    length (the last one ending it), so that no line is ever held whole: a row cannot be that
    long, and the reader refuses the pieces."""
    while line := text.readline(rules.MAX_LINE_CHARS):
        yield line


def _jsonl_lines(text: io.TextIOWrapper) -> Iterator[str | None]:
    """The lines of a JSON Lines text; None for a line longer than rules.MAX_LINE_CHARS,
    whose pieces are read past, never held whole."""
    long = False
    for piece in _bounded_lines(text):
        ended = piece.endswith(("\n", "\r"))
        if long or (len(piece) >= rules.MAX_LINE_CHARS and not ended):
            long = not ended
            if ended:
                yield None
            continue
        yield piece
    if long:
        yield None


def _jsonl_rows(text: io.TextIOWrapper, name: str) -> tuple[str, Iterator[tuple[int, Raw]]]:
    lines = enumerate(_jsonl_lines(text), start=1)
    first: tuple[int, Raw] | None = None
    try:
        for number, raw_line in lines:
            if raw_line is None or raw_line.strip():
                first = (number, _json_object(raw_line))
                break
    except UnicodeDecodeError as exc:
        text.close()
        raise FileRefused(name, 0, f"cannot be read: {_decode_reason(exc)}") from None
    if first is None:
        text.close()
        raise FileRefused(name, 1, "the file is empty")
    if isinstance(first[1], BadRow):
        text.close()
        raise FileRefused(name, first[0], first[1].reason, first[1].field)
    kind = detect_kind(list(first[1]), name, first[0])

    def rows() -> Iterator[tuple[int, Raw]]:
        with text:
            yield first
            number = first[0]
            try:
                for number, raw_line in lines:
                    if raw_line is None or raw_line.strip():
                        yield number, _json_object(raw_line)
            except UnicodeDecodeError as exc:
                yield number + 1, BadRow("row", f"cannot be read: {_decode_reason(exc)}")

    return kind, rows()


def _json_object(raw_line: str | None) -> Raw:
    """One JSON Lines row, or why the line is none: too long (None), not JSON, not an object, a
    key given twice, NaN or Infinity, a number too long to be an id or a date, nesting deeper
    than a row's."""
    if raw_line is None:
        return BadRow("row", f"is longer than the {rules.MAX_LINE_CHARS:,} characters a row may be")
    try:
        value = _DECODER.decode(raw_line)
        if isinstance(value, dict) and _keys_written(raw_line, len(value)) > len(value):
            # Some key may be given twice (a plain decoder keeps the last): read the line again,
            # pair by pair. Every key ends in '"' and ':', so a line with no more of those than
            # the keys kept has no key twice, and is read once.
            value = _PAIRS_DECODER.decode(raw_line)
    except json.JSONDecodeError as exc:
        if raw_line.startswith("\ufeff"):
            return BadRow(
                "row", "starts with a byte order mark (U+FEFF), as when two files are joined"
            )
        return BadRow("row", f"not valid JSON ({exc.msg} at column {exc.colno})")
    except rules.JsonShapeError as exc:
        return BadRow(exc.field, exc.reason)
    except RecursionError:
        return BadRow("row", f"nests deeper than the {rules.MAX_JSON_DEPTH} levels a row may have")
    except ValueError as exc:  # a number Python will not read
        return BadRow("row", f"not valid JSON ({type(exc).__name__})")
    if not isinstance(value, dict):
        return BadRow("row", "each line must be a JSON object")
    for item in value.values():
        if item.__class__ in (list, dict) and rules.too_deep(value):
            return BadRow(
                "row", f"nests deeper than the {rules.MAX_JSON_DEPTH} levels a row may have"
            )
    return value


_KEY_END = re.compile(r'"\s*:')


def _keys_written(raw_line: str, kept: int) -> int:
    """At least how many keys a JSON line writes: its colons, and when text holds some too, the
    ends of its keys ('"', spaces, ':'). Text inside strings may add to either count, never take
    from it."""
    colons = raw_line.count(":")
    return colons if colons <= kept else len(_KEY_END.findall(raw_line))


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise rules.JsonShapeError(
                    rules.shown_column(key), "is given twice in the line (which one is meant?)"
                )
            seen.add(key)
    return value


def _no_constant(name: str) -> Any:
    raise rules.JsonShapeError("row", f"has {name}, which is not a value an extract can hold")


def _whole(text: str) -> int:
    return int(rules.json_number(text, whole=True))


def _fraction(text: str) -> float:
    return float(rules.json_number(text, whole=False))


# One decoder each, made once (json.loads with hooks would make one a line).
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_whole, parse_float=_fraction)
_PAIRS_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_no_constant,
    parse_int=_whole,
    parse_float=_fraction,
)


def _decode_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save the extract as UTF-8)"
    return str(exc)


def parse_person(line: int, raw: dict[str, Any]) -> PersonRow:
    """Validate one person row; raise RowInvalid naming every bad field."""
    errors: list[tuple[str, str]] = []
    values = _strings(raw, PERSON_FIELDS, errors)
    if not values["record_id"] and not _has(errors, "record_id"):
        errors.append(("record_id", "is required"))
    aliases = _aliases(raw.get("aliases"), errors)
    date_of_birth = _date(values["date_of_birth"], "date_of_birth", errors)
    if date_of_birth is not None and not (rules.EARLIEST_DATE <= date_of_birth <= dt.date.today()):
        errors.append(("date_of_birth", "is in the future or before 1900"))
    nhs = values["nhs_number"].replace(" ", "").replace("-", "")
    if nhs and not (len(nhs) == 10 and nhs.isascii() and nhs.isdigit()):
        errors.append(("nhs_number", "must be 10 digits 0-9 (spaces and hyphens allowed)"))
    if (
        not values["surname"]
        and not _has(errors, "surname")
        and not _identified_without_surname(values["forenames"], date_of_birth, nhs)
    ):
        errors.append(("surname", SURNAME_REQUIRED))
    extra = _free_fields(raw, PERSON_FIELDS, errors)
    _involvement(extra, errors)
    if errors:
        raise RowInvalid(errors)
    notes = ()
    if any(map(rules.mixes_scripts, (values["forenames"], values["surname"], *aliases))):
        notes = (rules.MIXED_SCRIPTS,)
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
        notes=notes,
    )


def _has(errors: list[tuple[str, str]], name: str) -> bool:
    return bool(errors) and any(field == name for field, _ in errors)


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
    if len(nhs) == 10 and nhs.isascii() and nhs.isdigit() and nhs not in PLACEHOLDERS:
        return True
    return born is not None and bool(first_forename(forenames))


def parse_item(line: int, raw: dict[str, Any]) -> ItemRow:
    """Validate one information-item row; raise RowInvalid naming every bad field."""
    errors: list[tuple[str, str]] = []
    values = _strings(raw, ITEM_FIELDS, errors)
    for required in ("item_ref", "record_id", "date", "category", "summary"):
        if not values[required] and not _has(errors, required):
            errors.append((required, "is required"))
    occurred_on = _date(values["date"], "date", errors)
    if occurred_on is not None and occurred_on > dt.date.today():
        errors.append(("date", "is in the future"))
    if occurred_on is not None and occurred_on < rules.EARLIEST_DATE:
        errors.append(("date", "is before 1900"))
    sensitivity = values["sensitivity"] or "standard"
    if sensitivity not in SENSITIVITIES and not _has(errors, "sensitivity"):
        errors.append(("sensitivity", f"must be one of {', '.join(SENSITIVITIES)}"))
    unknown = sorted(set(raw) - set(ITEM_FIELDS))
    if unknown:
        shown = [rules.shown_column(name) for name in unknown[:5]]
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        errors.append((shown[0], f"unknown column(s) {', '.join(shown)}{more} in an items file"))
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
    """The row's fields as text, stripped, each checked for its type, length and characters
    (rules; as written, so that a control character or line break at either end is refused
    too, not quietly stripped); every problem appended to `errors` in the schema's order."""
    texts = {}
    found: list[tuple[str, str]] = []
    get = raw.get
    for name in names:
        value = get(name)
        if value.__class__ is str:  # a CSV field always, JSON's mostly
            texts[name] = value
        elif value is None or name == "aliases":  # _aliases reads them
            texts[name] = ""
        else:
            text, problem = rules.field_text(name, value)
            if problem:
                found.append((name, problem))
            texts[name] = text
    if "aliases" in texts:
        texts["aliases"] = ""
    values = {name: text.strip() for name, text in texts.items()}
    for name, limit in _limits(names):
        if len(values[name]) > limit:
            found.append((name, f"longer than {limit} characters"))
    identifying, free = _groups(names)
    for group, is_identifying in ((identifying, True), (free, False)):
        # one search a row for each kind of field; field by field only when it finds something
        if rules.any_problem("".join([texts[name] for name in group]), is_identifying):
            for name in group:
                problem = rules.character_problem(texts[name], is_identifying)
                if problem:
                    found.append((name, problem))
    if found:  # reported field by field, in the schema's order
        found.sort(key=lambda error: names.index(error[0]))
        errors.extend(found)
    return values


@lru_cache(maxsize=8)
def _limits(names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    return tuple((name, rules.LIMITS[name]) for name in names if name in rules.LIMITS)


@lru_cache(maxsize=8)
def _groups(names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A schema's fields: the identifying ones, then the free text ones."""
    return (
        tuple(name for name in names if name in rules.IDENTIFYING),
        tuple(name for name in names if name not in rules.IDENTIFYING),
    )


@lru_cache(maxsize=8)
def _schema_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


def _free_fields(
    raw: dict[str, Any], names: tuple[str, ...], errors: list[tuple[str, str]]
) -> dict[str, str]:
    """The agency's own columns of a row, as text: each a scalar, within its length and the free
    text rules, named by a column that can name a field; at most rules.MAX_FREE_FIELDS."""
    extra: dict[str, str] = {}
    if len(raw) <= len(names) and _schema_set(names).issuperset(raw):
        return extra  # the usual row: the schema's columns only
    count = 0
    for key, value in raw.items():
        if key in names:
            continue
        count += 1
        problem = rules.column_problem(key)
        if problem:
            errors.append((rules.shown_column(key), problem))
            continue
        text, problem = rules.field_text(key, value)
        problem = problem or rules.length_problem(key, text) or rules.character_problem(text, False)
        if problem:
            errors.append((key, problem))
        elif text:
            extra[key] = text
    if count > rules.MAX_FREE_FIELDS:
        errors.append(("row", f"has {count} columns of its own; at most {rules.MAX_FREE_FIELDS}"))
    return extra


def _aliases(value: Any, errors: list[tuple[str, str]]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        written = value.split(";")
    elif isinstance(value, list) and all(v.__class__ is str for v in value):
        written = value
    else:
        errors.append(("aliases", "must be names separated by ';' (CSV) or a list of names (JSON)"))
        return ()
    names = [n for n in (part.strip(" ") for part in written) if n]
    if len(names) > rules.MAX_ALIASES:
        errors.append(("aliases", f"has {len(names)} names; at most {rules.MAX_ALIASES} a record"))
        return ()
    if any(len(n) > rules.ALIAS_LIMIT for n in names):
        errors.append(("aliases", f"an alias is longer than {rules.ALIAS_LIMIT} characters"))
    problem = next(filter(None, (rules.character_problem(n, True) for n in names)), None)
    if problem:
        errors.append(("aliases", f"an alias {problem}"))
    return tuple(names)


def _date(text: str, name: str, errors: list[tuple[str, str]]) -> dt.date | None:
    if not text or _has(errors, name):
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
