"""Import fuzz: thousands of malformed extracts through the real import, each refused or flagged.

Run: .venv/bin/python -m bench.import_fuzz [--files 10000] [--seed 1]

A fresh node (`bench/out/import-fuzz/`, SQLite, the police agency) gets `--files` imports, each
in a unit of work of its own as `mash-node import` runs it (`import_files` as a node
administrator, the audit entries, the signed checkpoint, the commit). Each import is a small
good extract (3 to 8 synthetic people, CSV or JSON Lines, with an items file for the item kinds)
into which one kind of fault from issue 9 is written at a random row, field and place:

- refused kinds: a lone surrogate (`\\ud800`), nesting up to 100,000 deep, an integer of up to
  5,000 digits, control characters (NUL, ESC, DEL, C1, other C0) in aliases, names and free
  fields, bidirectional controls, zero-width characters, line breaks in names and ids, NaN or
  Infinity as a surname, a number as a surname, a repeated JSON key, the same `record_id` in two
  files of the import, a date of birth or an item before 1900, an NHS number in full-width,
  superscript or Arabic-Indic digits, more than 20 aliases, a field over its length, Latin-1
  bytes in a UTF-8 file, a UTF-16 file, a byte order mark inside the file;
- flagged: a name mixing two scripts (imported, and noted);
- controls: `clean` (nothing wrong: must be imported, unflagged) and `garbled` (a good file
  with one to three random bytes changed: refused or imported, anything but a crash);
- every fifth import runs with `keep_going` (the CLI's `--rejects`): the good rows must be
  written, the faulty row set aside.

After each import the store's rows are counted (records, names, match keys, subjects, items,
import runs). A refused import must leave every count as it was; an accepted one must add
exactly the records and items it reports and one import run a file. A traceback is any exception
other than the import's refusal. Each refusal's lines must read `file:line:field: reason` on one
line, and one of them must name a line of the faulty row.

Targets printed: 0 tracebacks, 0 partial writes, every faulty kind refused or flagged in every
file, every clean file imported.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.import_throughput import OUT, format_table, machine_lines
from node.access import Actor
from node.agencies import sync_agencies
from node.config import render_config
from node.importing.fields import MIXED_SCRIPTS
from node.importing.service import ImportRefused, import_files
from node.runtime import Node
from node.store.models import (
    ImportRun,
    InformationItem,
    MatchKey,
    PersonName,
    PersonRecord,
    Role,
    Subject,
)

DIRECTORY = OUT / "import-fuzz"
ADMIN = Actor("bench-admin", Role.NODE_ADMIN)
_ERROR_LINE = re.compile(r"^[^\n]+:\d+:[^:\s]+: [^\n]+$")
_FORENAMES = ["Amy", "Jon", "Aisha", "Kwame", "Zofia", "Li", "Sean", "Maya"]
_SURNAMES = ["Jones", "Begum", "Mensah", "Nowak", "Smith", "O'Brien", "Patel", "Okafor"]
_CONTROLS = "\x00\x01\x07\x08\x1b\x1f\x7f\x80\x85\x9b\x9f"
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_BREAKS = "\n\r\u2028\u2029\x85"
_NHS = ["９４３４７６５９１９", "⁹⁴³⁴⁷⁶⁵⁹¹⁹", "٩٤٣٤٧٦٥٩١٩", "９４３ ４７６ ５９１９", "943476591⁹"]
_LIMITS = {"record_id": 100, "forenames": 200, "surname": 200, "address": 500, "postcode": 20}
_TABLES = (PersonRecord, PersonName, MatchKey, Subject, InformationItem, ImportRun)


@dataclass
class Case:
    """One import: its files (name, bytes), the fault's kind and the lines it may be named at."""

    kind: str
    files: list[tuple[str, bytes]]
    lines: set[tuple[int, int]] = field(default_factory=set)  # (file index, line)
    good_rows: int = 0  # person rows with no fault (what keep_going must write)


@dataclass
class Tally:
    files: int = 0
    refused: int = 0
    flagged: int = 0
    unflagged: int = 0
    named_line: int = 0
    tracebacks: int = 0
    partial: int = 0
    bad_messages: int = 0
    kept_going: int = 0
    kept_going_wrong: int = 0


class _Builder:
    """Good extracts with one fault each, drawn from `rng`."""

    def __init__(self, rng: random.Random, number: int) -> None:
        self.rng = rng
        self.number = number

    def people(self, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        return [
            {
                "record_id": f"F{self.number}-{n}",
                "forenames": rng.choice(_FORENAMES),
                "surname": rng.choice(_SURNAMES),
                "aliases": [],
                "date_of_birth": f"{rng.randint(1950, 2020)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "postcode": rng.choice(["E8 1AB", "N16 7AB", "", "SW1A 1AA"]),
                "nhs_number": "",
                "address": "1 High Street",
                "pnc_id": f"{rng.randint(10, 99)}/{rng.randint(1000, 9999)}X",
            }
            for n in range(count)
        ]

    def items(self, people: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "item_ref": f"I{self.number}-{n}",
                "record_id": person["record_id"],
                "date": f"20{self.rng.randint(10, 25)}-0{self.rng.randint(1, 9)}-15",
                "category": "Domestic incident",
                "summary": "Police attended",
                "detail": "Long text\nover two lines",
                "sensitivity": "standard",
            }
            for n, person in enumerate(people)
        ]


def _name(stem: str, as_jsonl: bool) -> str:
    return f"{stem}.jsonl" if as_jsonl else f"{stem}.csv"


def _too_long(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    rows = builder.people(rng.randint(3, 8))
    at = rng.randrange(len(rows))
    name = rng.choice([*_LIMITS, "pnc_id", "aliases"])
    if name == "aliases":
        rows[at]["aliases"] = ["A" * rng.randint(201, 2000)]
    else:
        limit = _LIMITS.get(name, 1000)
        rows[at][name] = "x" * rng.randint(limit + 1, limit * 5)
    data, spans = _persons_file(rows, as_jsonl)
    return Case("field over its length", [(_name("people", as_jsonl), data)], {(0, spans[at][0])})


def _jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


def _csv_text(rows: list[dict[str, Any]]) -> tuple[str, list[tuple[int, int]]]:
    """CSV text of rows (aliases joined by ';') and each row's first and last line."""
    import csv
    import io

    header: list[str] = []
    for row in rows:
        header += [key for key in row if key not in header]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    spans = []
    line = 2
    for row in rows:
        values = [
            "; ".join(v) if isinstance(v := row.get(name, ""), list) else str(v) for name in header
        ]
        before = out.tell()
        writer.writerow(values)
        written = out.getvalue()[before:]
        breaks = written.count("\n") + written.count("\r") - 1
        spans.append((line, line + breaks))
        line += breaks + 1
    return out.getvalue(), spans


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _persons_file(
    rows: list[dict[str, Any]], as_jsonl: bool, raw_line: tuple[int, str] | None = None
) -> tuple[bytes, list[tuple[int, int]]]:
    """A persons file of rows (row `raw_line[0]` written as the raw text `raw_line[1]` in JSON
    Lines), and each row's line span."""
    if as_jsonl:
        lines = [_jsonl_line(row) for row in rows]
        if raw_line is not None:
            lines[raw_line[0]] = raw_line[1]
        return _encode("\n".join(lines) + "\n"), [(n + 1, n + 1) for n in range(len(rows))]
    text, spans = _csv_text(rows)
    return _encode(text), spans


# Each fault: (kind, whether it needs JSON Lines, the function writing it).
Fault = Callable[[_Builder, bool], Case]


def _with_value(kind: str, fields_: list[str], make: Callable[[random.Random], Any]) -> Fault:
    """A fault that sets one of some fields of one row to a drawn value."""

    def build(builder: _Builder, as_jsonl: bool) -> Case:
        rng = builder.rng
        rows = builder.people(rng.randint(3, 8))
        at = rng.randrange(len(rows))
        name = rng.choice(fields_)
        value = make(rng)
        if name == "aliases":
            rows[at]["aliases"] = [f"Alias{value}Name"] if isinstance(value, str) else value
        elif name in rows[at] and isinstance(value, str) and not name.startswith("="):
            original = str(rows[at][name]) or "X"
            cut = rng.randint(0, len(original))
            rows[at][name] = original[:cut] + value + original[cut:]
        else:
            rows[at][name.lstrip("=")] = value
        data, spans = _persons_file(rows, as_jsonl)
        return Case(
            kind,
            [(_name("people", as_jsonl), data)],
            {(0, line) for line in range(*_wide(spans[at]))},
        )

    return build


def _wide(span: tuple[int, int]) -> tuple[int, int]:
    return span[0], span[1] + 1


def _raw(kind: str, make: Callable[[random.Random, dict[str, Any]], str]) -> Fault:
    """A JSON Lines fault written as raw text in place of one row."""

    def build(builder: _Builder, as_jsonl: bool) -> Case:
        rng = builder.rng
        rows = builder.people(rng.randint(3, 8))
        at = rng.randrange(1, len(rows))  # not the first line: that one decides the file's kind
        data, spans = _persons_file(rows, True, (at, make(rng, rows[at])))
        return Case(kind, [(_name("people", as_jsonl), data)], {(0, spans[at][0])})

    return build


def _nested(rng: random.Random, row: dict[str, Any]) -> str:
    depth = rng.choice([3, 4, 10, 1000, rng.randint(3, 100_000), 100_000])
    return f'{{"record_id": "{row["record_id"]}", "surname": {"[" * depth}"x"{"]" * depth}}}'


def _huge(rng: random.Random, row: dict[str, Any]) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(31, 5000)))
    where = rng.choice(["record_id", "nhs_number", "pnc_id", "surname"])
    values = dict(row, **{where: "@"})
    return _jsonl_line(values).replace('"@"', "1" + digits, 1)


def _constant(rng: random.Random, row: dict[str, Any]) -> str:
    return _jsonl_line(dict(row, surname="@")).replace(
        '"@"', rng.choice(["NaN", "Infinity", "-Infinity"]), 1
    )


def _repeated_key(rng: random.Random, row: dict[str, Any]) -> str:
    name = rng.choice(["surname", "record_id", "forenames", "date_of_birth", "pnc_id"])
    text = _jsonl_line(row)
    return text[:-1] + f', "{name}": "{rng.choice(_SURNAMES)}"}}'


def _surrogate(rng: random.Random, row: dict[str, Any]) -> str:
    name = rng.choice(["surname", "forenames", "record_id", "address", "pnc_id"])
    escape = rng.choice(["\\ud800", "\\udfff", "\\udc80", "\\ud83d"])
    text = _jsonl_line(dict(row, **{name: "@"}))
    return text.replace('"@"', f'"Ab{escape}cd"', 1)


def _two_files(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    first = builder.people(rng.randint(3, 8))
    second = builder.people(rng.randint(3, 8))
    for n, row in enumerate(second):
        row["record_id"] = f"{row['record_id']}b{n}"
    at = rng.randrange(len(second))
    second[at]["record_id"] = rng.choice(first)["record_id"]
    second_jsonl = rng.random() < 0.5
    one, _ = _persons_file(first, as_jsonl)
    two, spans = _persons_file(second, second_jsonl)
    return Case(
        "record_id in two files",
        [(_name("people", as_jsonl), one), (_name("more", second_jsonl), two)],
        {(1, spans[at][0])},
    )


def _old_item(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    people = builder.people(rng.randint(3, 8))
    items = builder.items(people)
    at = rng.randrange(len(items))
    items[at]["date"] = rng.choice(
        ["0001-01-01", "1899-12-31", f"{rng.randint(1000, 1899)}-06-15", "01/01/1066"]
    )
    persons, _ = _persons_file(people, as_jsonl)
    if as_jsonl:
        data = _encode("\n".join(map(_jsonl_line, items)) + "\n")
        lines = {at + 1}
    else:
        text, spans = _csv_text(items)
        data, lines = _encode(text), set(range(*_wide(spans[at])))
    return Case(
        "item before 1900",
        [(_name("people", as_jsonl), persons), (_name("items", as_jsonl), data)],
        {(1, line) for line in lines},
    )


def _latin1(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    rows = builder.people(rng.randint(3, 8))
    at = rng.randrange(len(rows))
    name = rng.choice(["surname", "forenames", "address", "pnc_id"])
    rows[at][name] = "M@ller"
    data, spans = _persons_file(rows, as_jsonl)
    data = data.replace(b"@", rng.choice([b"\xfc", b"\xe9", b"\xa3", b"\xff", b"\xc3"]), 1)
    return Case("Latin-1 bytes", [(_name("people", as_jsonl), data)], {(0, spans[at][0])})


def _utf16(builder: _Builder, as_jsonl: bool) -> Case:
    rows = builder.people(builder.rng.randint(3, 8))
    data, _ = _persons_file(rows, as_jsonl)
    encoding = builder.rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
    data = data.decode("utf-8").encode(encoding)
    if encoding != "utf-16" and encoding != "utf-32":
        data = ("\ufeff".encode(encoding)) + data
    return Case("UTF-16 file", [(_name("people", as_jsonl), data)], {(0, 1)})


def _inner_bom(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    rows = builder.people(rng.randint(3, 8))
    at = rng.randrange(1, len(rows))
    data, spans = _persons_file(rows, as_jsonl)
    lines = data.split(b"\n")
    index = spans[at][0] - 1
    lines[index] = b"\xef\xbb\xbf" + lines[index]  # a second file's start, joined on
    return Case(
        "byte order mark inside",
        [(_name("people", as_jsonl), b"\n".join(lines))],
        {(0, spans[at][0])},
    )


def _mixed(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    rows = builder.people(rng.randint(3, 8))
    at = rng.randrange(len(rows))
    name = rng.choice(["surname", "forenames"])
    look_alikes = {"a": "а", "o": "о", "e": "е", "i": "і", "c": "с", "p": "р"}  # Cyrillic
    text = rows[at][name]
    letters = [n for n, ch in enumerate(text) if ch in look_alikes]
    if letters:
        n = rng.choice(letters)
        rows[at][name] = text[:n] + look_alikes[text[n]] + text[n + 1 :]
    else:
        rows[at][name] = text + "λ"
    data, _ = _persons_file(rows, as_jsonl)
    return Case("mixed scripts (flag)", [(_name("people", as_jsonl), data)], good_rows=len(rows))


def _clean(builder: _Builder, as_jsonl: bool) -> Case:
    rows = builder.people(builder.rng.randint(3, 8))
    data, _ = _persons_file(rows, as_jsonl)
    return Case("clean (control)", [(_name("people", as_jsonl), data)], good_rows=len(rows))


def _garbled(builder: _Builder, as_jsonl: bool) -> Case:
    rng = builder.rng
    rows = builder.people(rng.randint(3, 8))
    data, _ = _persons_file(rows, as_jsonl)
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        where = rng.randrange(len(mutable))
        if rng.random() < 0.5:
            mutable[where] = rng.randrange(256)
        else:
            mutable[where:where] = bytes([rng.randrange(256)])
    return Case("garbled bytes (control)", [(_name("people", as_jsonl), bytes(mutable))])


def _char(chars: str) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(chars)


FAULTS: list[tuple[str, bool, Fault]] = [
    ("lone surrogate", True, _raw("lone surrogate", _surrogate)),
    ("deep nesting", True, _raw("deep nesting", _nested)),
    ("huge integer", True, _raw("huge integer", _huge)),
    (
        "control character",
        False,
        _with_value(
            "control character",
            ["aliases", "pnc_id", "address", "surname", "forenames", "record_id"],
            _char(_CONTROLS),
        ),
    ),
    (
        "bidi control",
        False,
        _with_value("bidi control", ["surname", "forenames", "record_id", "aliases"], _char(_BIDI)),
    ),
    (
        "zero-width character",
        False,
        _with_value(
            "zero-width character", ["surname", "forenames", "record_id"], _char(_ZERO_WIDTH)
        ),
    ),
    (
        "line break in a name or id",
        False,
        _with_value(
            "line break in a name or id",
            ["surname", "forenames", "record_id", "postcode"],
            _char(_BREAKS),
        ),
    ),
    ("NaN as a surname", True, _raw("NaN as a surname", _constant)),
    (
        "number as a surname",
        True,
        _with_value(
            "number as a surname",
            ["=surname", "=forenames"],
            lambda rng: rng.choice([rng.randint(-(10**9), 10**9), rng.random() * 1e6]),
        ),
    ),
    ("repeated JSON key", True, _raw("repeated JSON key", _repeated_key)),
    ("record_id in two files", False, _two_files),
    (
        "born before 1900",
        False,
        _with_value(
            "born before 1900",
            ["=date_of_birth"],
            lambda rng: rng.choice(
                ["0001-01-01", "1899-12-31", f"{rng.randint(1000, 1899)}-02-03"]
            ),
        ),
    ),
    ("item before 1900", False, _old_item),
    (
        "non-ASCII NHS digits",
        False,
        _with_value("non-ASCII NHS digits", ["=nhs_number"], lambda rng: rng.choice(_NHS)),
    ),
    (
        "too many aliases",
        False,
        _with_value(
            "too many aliases",
            ["aliases"],
            lambda rng: [f"Alias {n}" for n in range(rng.choice([21, 22, 50, 1000, 20_000]))],
        ),
    ),
    ("field over its length", False, _too_long),
    ("Latin-1 bytes", False, _latin1),
    ("UTF-16 file", False, _utf16),
    ("byte order mark inside", False, _inner_bom),
    ("mixed scripts (flag)", False, _mixed),
    ("clean (control)", False, _clean),
    ("garbled bytes (control)", False, _garbled),
]
FLAGGED_KINDS = {"mixed scripts (flag)"}
CONTROL_KINDS = {"clean (control)", "garbled bytes (control)"}


def draw_case(rng: random.Random, number: int) -> Case:
    """The `number`th import: a fault drawn in turn (so each kind gets its share), CSV or JSON
    Lines at random where the fault can be written in both."""
    kind, needs_jsonl, build = FAULTS[number % len(FAULTS)]
    case = build(_Builder(rng, number), needs_jsonl or rng.random() < 0.5)
    case.kind = kind
    return case


def counts(node: Node) -> tuple[int, ...]:
    with node.reading() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0 for table in _TABLES
        )


@dataclass
class Outcome:
    refused: bool = False
    flagged: bool = False
    named_line: bool = False
    traceback: str = ""
    partial: bool = False
    bad_message: bool = False
    kept_going_wrong: bool = False


def run_case(node: Node, case: Case, folder: Path, keep_going: bool) -> Outcome:
    """Import a case's files as `mash-node import` would, and judge what happened."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paths = []
    for name, data in case.files:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    index = {str(path): n for n, path in enumerate(paths)}
    before = counts(node)
    outcome = Outcome()
    result = None
    try:
        with node.unit_of_work(ADMIN) as session:
            result = import_files(session, ADMIN, "police", paths, keep_going=keep_going)
    except ImportRefused as exc:
        outcome.refused = True
        lines = [str(error) for error in exc.errors]
        outcome.bad_message = not lines or not all(_ERROR_LINE.match(line) for line in lines)
        outcome.named_line = any(
            (index.get(error.file, -1), error.line) in case.lines for error in exc.errors
        )
    except Exception:
        outcome.traceback = traceback.format_exc(limit=3)
    after = counts(node)
    if result is None:
        outcome.partial = after != before
        return outcome
    delta = [b - a for a, b in zip(before, after, strict=True)]
    persons = [f for f in result.files if f.kind == "persons"]
    items = [f for f in result.files if f.kind == "items"]
    outcome.partial = (
        delta[0] != sum(f.inserted for f in persons)
        or delta[4] != sum(f.inserted for f in items)
        or delta[5] != len(result.files)
    )
    outcome.flagged = any(MIXED_SCRIPTS in f.warnings for f in result.files)
    if result.refused:
        outcome.refused = True
        outcome.named_line = any(
            (index.get(file, -1), line) in case.lines
            for file, lines in result.rejected.items()
            for line in lines
        )
        # Every row either written or set aside: none lost, none half-written.
        outcome.kept_going_wrong = any(f.inserted + f.refused != f.rows for f in persons)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_fuzz", description=__doc__)
    parser.add_argument("--files", type=int, default=10_000, help="imports to run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()))
    print(f"Import fuzz: {args.files:,} imports, seed {args.seed}")
    rng = random.Random(args.seed)
    if DIRECTORY.exists():
        shutil.rmtree(DIRECTORY)
    DIRECTORY.mkdir(parents=True)
    config = DIRECTORY / "node.toml"
    config.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    with Node.initialise(config) as node, node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
    tallies: dict[str, Tally] = {kind: Tally() for kind, _, _ in FAULTS}
    tracebacks: Counter[str] = Counter()
    files_written = 0
    started = time.perf_counter()
    with Node.open(config) as node:
        for number in range(args.files):
            case = draw_case(rng, number)
            keep_going = number % 5 == 4
            outcome = run_case(node, case, DIRECTORY / "files", keep_going)
            files_written += len(case.files)
            tally = tallies[case.kind]
            tally.files += 1
            tally.refused += outcome.refused
            tally.flagged += outcome.flagged and not outcome.refused
            tally.unflagged += not outcome.refused and not outcome.flagged and not outcome.traceback
            tally.named_line += outcome.named_line
            tally.tracebacks += bool(outcome.traceback)
            tally.partial += outcome.partial
            tally.bad_messages += outcome.bad_message
            tally.kept_going += keep_going
            tally.kept_going_wrong += outcome.kept_going_wrong
            if outcome.traceback:
                tracebacks[outcome.traceback.strip().splitlines()[-1][:200]] += 1
            if (number + 1) % 1000 == 0:
                print(
                    f"  {number + 1:,} imports, {time.perf_counter() - started:,.0f} s", flush=True
                )
    elapsed = time.perf_counter() - started
    rows = []
    for kind, tally in tallies.items():
        rows.append(
            (
                kind,
                tally.files,
                tally.refused,
                tally.flagged,
                tally.unflagged,
                tally.named_line,
                tally.tracebacks,
                tally.partial,
                tally.bad_messages,
                f"{tally.kept_going - tally.kept_going_wrong}/{tally.kept_going}",
            )
        )
    total = Tally()
    for tally in tallies.values():
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
    rows.append(
        (
            "all",
            total.files,
            total.refused,
            total.flagged,
            total.unflagged,
            total.named_line,
            total.tracebacks,
            total.partial,
            total.bad_messages,
            f"{total.kept_going - total.kept_going_wrong}/{total.kept_going}",
        )
    )
    print(
        format_table(
            (
                "kind",
                "imports",
                "refused",
                "flagged",
                "imported unflagged",
                "named its line",
                "tracebacks",
                "partial writes",
                "malformed messages",
                "--rejects right",
            ),
            rows,
        )
    )
    print(f"  {files_written:,} files in {args.files:,} imports, {elapsed:,.0f} s")
    for line, count in tracebacks.most_common(10):
        print(f"  traceback x{count}: {line}")
    faulty = [k for k in tallies if k not in CONTROL_KINDS]
    caught = all(
        tallies[k].refused + tallies[k].flagged == tallies[k].files
        if k in FLAGGED_KINDS
        else tallies[k].refused == tallies[k].files
        for k in faulty
    )
    clean = tallies["clean (control)"]
    met = (
        total.tracebacks == 0
        and total.partial == 0
        and total.bad_messages == 0
        and total.kept_going_wrong == 0
        and caught
        and clean.unflagged == clean.files
        and files_written >= args.files
    )
    print(
        "Targets: 0 tracebacks, 0 partial writes, every faulty kind refused or flagged in every "
        f"import, every clean file imported: {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
