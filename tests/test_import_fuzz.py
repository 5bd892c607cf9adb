"""The extract readers, fuzzed (hypothesis): whatever bytes a file holds, a row is read and either
accepted as storable or refused at its line and field; nothing else escapes."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from node.importing import fields as rules
from node.importing.prepare import prepare_persons
from node.importing.rows import (
    ITEM_FIELDS,
    PERSON_FIELDS,
    BadRow,
    FileRefused,
    RowInvalid,
    open_rows,
    parse_item,
)

# Characters that broke the readers or slipped through them, among ordinary ones.
_NASTY = "\x00\x01\x1b\x7f\x85\x9f\t\n\r\u200b\u200d\u202e\u2066\ufeff\u2028\ud800\udce9"
_ORDINARY = "abcAZ -'.,;0123456789éßЖЯ李٣９²"
_clean = st.text(alphabet=_ORDINARY, max_size=20)
_dirty = st.builds(lambda a, c, b: a + c + b, _clean, st.sampled_from(_NASTY), _clean)
_text = st.one_of(_clean, _clean, _dirty)  # mostly good rows, so that some are accepted
_scalar = st.one_of(
    _text,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
_value = st.one_of(
    _text, _text, _scalar, st.lists(_text, max_size=25), st.lists(st.lists(_text, max_size=2))
)
_DATES = st.sampled_from(["2015-03-14", "0001-01-01", "14/03/2015", "31/02/2015", "２０１５-03-14"])


_NHS = [
    "943 476 5919",
    "９４３４７６５９１９",
    "⁹⁴³⁴⁷⁶⁵⁹¹⁹",
    "٩٤٣٤٧٦٥٩١٩",
    9434765919,
    9434765919.0,
]
_SPECIAL = {
    "date": _DATES,
    "date_of_birth": _DATES,
    "nhs_number": st.sampled_from(_NHS),
    "aliases": st.lists(_text, max_size=25),
}
_ids = st.text(alphabet="ABC0123456789", min_size=1, max_size=8)
_BASE = {
    PERSON_FIELDS: {"forenames": "Amy", "surname": "Jones", "date_of_birth": "2015-03-14"},
    ITEM_FIELDS: {"date": "2026-10-01", "category": "Incident", "summary": "Attended"},
}


@st.composite
def _rows(draw: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A good row with up to three of its fields (or a column of its own) drawn at random."""
    row: dict[str, Any] = {"record_id": draw(_ids), **_BASE[names]}
    if names is ITEM_FIELDS:
        row["item_ref"] = draw(_ids)
    elif draw(st.booleans()):
        row["nhs_number"] = draw(st.sampled_from(_NHS))
    for name in draw(st.lists(st.sampled_from([*names, "pnc_id", ""]), max_size=3)):
        if name == "":
            name = draw(_text)  # a column of the agency's own, perhaps a bad one
        row[name] = draw(st.one_of(_SPECIAL[name], _value) if name in _SPECIAL else _value)
    return row


def _jsonl(rows: list[dict[str, Any]], draw: Any) -> bytes:
    lines = [json.dumps(row, ensure_ascii=draw(st.booleans())) for row in rows]
    if draw(st.booleans()):  # a repeated key, nesting, a huge number, broken JSON
        lines.append(
            draw(
                st.sampled_from(
                    [
                        '{"surname": "A", "surname": "B", "record_id": "X"}',
                        '{"record_id": "X", "surname": ' + "[" * 5000 + "]" * 5000 + "}",
                        '{"record_id": ' + "9" * 5000 + ', "surname": "A"}',
                        '{"record_id": "X", "surname": NaN}',
                        "{not json",
                        "[1, 2]",
                        "\ufeff{}",
                    ]
                )
            )
        )
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _csv(rows: list[dict[str, Any]]) -> bytes:
    header: list[str] = []
    for row in rows:
        header += [key for key in row if key not in header]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def _files(draw: Any) -> tuple[str, bytes]:
    names = draw(st.sampled_from([PERSON_FIELDS, ITEM_FIELDS]))
    rows = draw(st.lists(_rows(names), min_size=1, max_size=6))
    suffix = draw(st.sampled_from([".jsonl", ".csv"]))
    data = _jsonl(rows, draw) if suffix == ".jsonl" else _csv(rows)
    if draw(st.booleans()):  # bytes no UTF-8 writer makes: Latin-1, a BOM, UTF-16, junk
        at = draw(st.integers(min_value=0, max_value=len(data)))
        junk = draw(st.sampled_from([b"\xe9", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"\xc3"]))
        data = data[:at] + junk + data[at:]
    return suffix, data


def _check_accepted_text(text: str, identifying: bool) -> None:
    text.encode("utf-8")  # storable: no lone surrogate
    assert rules.character_problem(text, identifying) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_files())
def test_a_fuzzed_file_is_read_into_storable_rows_or_refused_by_line_and_field(
    file: tuple[str, bytes],
) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"extract{suffix}"
        path.write_bytes(data)
        try:
            kind, rows = open_rows(path)
        except FileRefused as exc:
            assert exc.line >= 0 and exc.reason
            return
        if kind == "persons":
            for batch in prepare_persons(path, "police", True, 3, keep_going=True):
                for error in batch.errors:
                    assert error.line >= 1 and error.reason
                    assert rules.column_problem(error.field) is None, error.field
                for person in batch.persons:
                    event("a person row accepted")
                    for value in person.data:
                        if isinstance(value, str):
                            value.encode("utf-8")
                    forenames, surname = person.data[2], person.data[3]
                    _check_accepted_text(forenames, True)
                    _check_accepted_text(surname, True)
                    assert len(json.loads(person.data[4])) <= rules.MAX_ALIASES
                    nhs = person.data[9]
                    assert nhs == "" or (nhs.isascii() and nhs.isdigit())
            return
        for line, raw in rows:
            assert line >= 1
            if isinstance(raw, BadRow):
                assert rules.column_problem(raw.field) is None and raw.reason
                continue
            try:
                item = parse_item(line, raw)
            except RowInvalid as exc:
                assert all(rules.column_problem(f) is None and r for f, r in exc.errors)
                continue
            event("an item row accepted")
            for name in ("item_ref", "record_id", "category", "sensitivity"):
                _check_accepted_text(getattr(item, name), True)
            for name in ("summary", "detail"):
                _check_accepted_text(getattr(item, name), False)
            assert item.occurred_on >= rules.EARLIEST_DATE
