"""Agency data import: all-or-nothing, idempotent, every bad row named (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.access import AccessDenied
from node.importing import service
from node.importing.rows import SURNAME_REQUIRED
from node.importing.service import ImportRefused, import_files
from node.matching.keys import Identity, derive_keys
from node.store.models import (
    AuditEntry,
    ImportRun,
    InformationItem,
    MatchKey,
    PersonName,
    PersonRecord,
)
from tests.helpers import ADMIN, make_hub, professional, write_csv, write_jsonl

PEOPLE = [
    {
        "record_id": "P1",
        "forenames": "John",
        "surname": "Smith",
        "date_of_birth": "2015-03-14",
        "postcode": "e8 1ab",
        "nhs_number": "943 476 5919",
        "gender": "male",
        "pnc_id": "15/1234X",
    },
    {
        "record_id": "P2",
        "forenames": "Aisha",
        "surname": "Begum",
        "date_of_birth": "14/07/2011",
        "postcode": "E5 0LL",
        "nhs_number": "",
        "gender": "female",
    },
]
ITEMS = [
    {
        "item_ref": "CAD-1",
        "record_id": "P1",
        "date": "2026-10-01",
        "category": "Domestic incident",
        "summary": "Police called to address",
        "detail": "Long text",
        "sensitivity": "sensitive",
    },
    {
        "item_ref": "CAD-2",
        "record_id": "P2",
        "date": "02/11/2026",
        "category": "Missing episode",
        "summary": "Reported missing overnight",
    },
]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def hub(session: Session) -> Session:
    make_hub(session)
    return session


def test_persons_and_items_are_imported_with_normalised_fields(
    hub: Session, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "people.csv", PEOPLE)
    items = write_csv(tmp_path / "items.csv", ITEMS)
    result = import_files(hub, ADMIN, "police", [items, people])  # order of files does not matter
    assert [(f.kind, f.rows, f.inserted) for f in result.files] == [
        ("persons", 2, 2),
        ("items", 2, 2),
    ]
    john = hub.scalars(select(PersonRecord).where(PersonRecord.agency_record_id == "P1")).one()
    assert john.postcode_norm == "E8 1AB"
    assert john.nhs_number_norm == "9434765919"
    assert john.date_of_birth == dt.date(2015, 3, 14)
    assert john.extra == {"pnc_id": "15/1234X"}
    assert john.subject_id is not None
    assert [i.item_ref for i in john.items] == ["CAD-1"]
    assert john.items[0].sensitivity == "sensitive"
    aisha = hub.scalars(select(PersonRecord).where(PersonRecord.agency_record_id == "P2")).one()
    assert aisha.date_of_birth == dt.date(2011, 7, 14)
    assert count(hub, MatchKey) > 0
    assert count(hub, ImportRun) == 2
    assert hub.scalar(select(func.count()).where(AuditEntry.action == "import")) == 2


def test_json_lines_with_aliases(hub: Session, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "health.jsonl",
        [
            {
                "record_id": "H1",
                "forenames": "Kate",
                "surname": "Jones",
                "aliases": ["Kate Brown"],
                "date_of_birth": "1990-01-02",
                "nhs_number": 9434765919,
            }
        ],
    )
    import_files(hub, ADMIN, "health", [path])
    record = hub.scalars(select(PersonRecord)).one()
    assert record.aliases == ["Kate Brown"]
    assert record.nhs_number_norm == "9434765919"
    names = hub.scalars(select(PersonName).where(PersonName.record_id == record.id)).all()
    assert sorted(n.is_alias for n in names) == [False, True]


def test_reimport_updates_and_never_duplicates(hub: Session, tmp_path: Path) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "a.csv", PEOPLE)])
    changed = [dict(PEOPLE[0], surname="Smith-Jones"), PEOPLE[1]]
    result = import_files(hub, ADMIN, "police", [write_csv(tmp_path / "b.csv", changed)])
    assert (result.files[0].inserted, result.files[0].updated) == (0, 2)
    assert count(hub, PersonRecord) == 2
    john = hub.scalars(select(PersonRecord).where(PersonRecord.agency_record_id == "P1")).one()
    assert john.surname == "Smith-Jones"
    names = hub.scalars(
        select(PersonName.surname_norm).where(PersonName.record_id == john.id)
    ).all()
    assert names and all("jones" in n for n in names)
    items = write_csv(tmp_path / "i.csv", ITEMS)
    import_files(hub, ADMIN, "police", [items])
    import_files(hub, ADMIN, "police", [items])
    assert count(hub, InformationItem) == 2


def test_same_record_id_in_another_agency_is_another_record(hub: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PEOPLE)
    import_files(hub, ADMIN, "police", [path])
    import_files(hub, ADMIN, "housing", [path])
    assert count(hub, PersonRecord) == 4


@pytest.mark.parametrize("batch", [1000, 1])
def test_a_bad_row_refuses_the_whole_import(
    hub: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(
        service, "BATCH", batch
    )  # 1: good rows were already written when the bad one comes
    rows = [
        *PEOPLE,
        {"record_id": "P3", "forenames": "Amy", "surname": "", "date_of_birth": "31/02/2015"},
        {"record_id": "P1", "forenames": "Dup", "surname": "Licate"},
        {"record_id": "P4", "surname": "Ok", "nhs_number": "12345"},
    ]
    people = write_csv(tmp_path / "people.csv", rows)
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [people])
    lines = [str(e) for e in caught.value.errors]
    assert f"{people}:4:surname: {SURNAME_REQUIRED}" in lines
    assert any(line.startswith(f"{people}:4:date_of_birth: is not a date") for line in lines)
    assert f"{people}:5:record_id: repeats the record_id of line 2" in lines
    assert any(line.startswith(f"{people}:6:nhs_number:") for line in lines)
    assert caught.value.total == 4
    assert "31/02/2015" not in " ".join(lines)  # the bad value itself is not echoed
    assert count(hub, PersonRecord) == 0
    assert count(hub, MatchKey) == 0


def test_item_for_unknown_record_refuses_persons_of_the_same_import(
    hub: Session, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "people.csv", PEOPLE)
    items = write_csv(
        tmp_path / "items.csv", [*ITEMS, dict(ITEMS[0], item_ref="CAD-3", record_id="P9")]
    )
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [people, items])
    assert [str(e) for e in caught.value.errors] == [
        f"{items}:4:record_id: names no person record of this agency "
        "(import the persons file first or with it)"
    ]
    assert count(hub, PersonRecord) == 0


def test_item_rows_are_validated(hub: Session, tmp_path: Path) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "people.csv", PEOPLE)])
    items = write_csv(
        tmp_path / "items.csv",
        [
            dict(ITEMS[0], sensitivity="secret", date="2099-01-01"),
            dict(ITEMS[1], summary="x" * 501),
        ],
    )
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [items])
    fields = {(e.line, e.field) for e in caught.value.errors}
    assert fields == {(2, "sensitivity"), (2, "date"), (3, "summary")}


def test_unreadable_files_are_refused_with_their_name(hub: Session, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    binary = tmp_path / "latin1.csv"
    binary.write_bytes("record_id,surname\nP1,M\xfcller\n".encode("latin-1"))
    broken = write_jsonl(tmp_path / "broken.jsonl", [{"record_id": "P1", "surname": "A"}])
    with broken.open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [wrong, binary, broken, tmp_path / "missing.csv"])
    text = "\n".join(str(e) for e in caught.value.errors)
    assert "cannot tell what the file holds" in text
    assert f"{binary}:" in text and "not UTF-8" in text
    assert f"{broken}:2:row: not valid JSON" in text
    assert "missing.csv" in text and "no such file" in text
    assert count(hub, PersonRecord) == 0


def test_remove_missing_only_when_asked(hub: Session, tmp_path: Path) -> None:
    import_files(
        hub,
        ADMIN,
        "police",
        [write_csv(tmp_path / "a.csv", PEOPLE), write_csv(tmp_path / "i.csv", ITEMS)],
    )
    only_first = write_csv(tmp_path / "b.csv", PEOPLE[:1])
    import_files(hub, ADMIN, "police", [only_first])
    assert count(hub, PersonRecord) == 2
    result = import_files(hub, ADMIN, "police", [only_first], remove_missing=True)
    assert result.files[0].removed == 1
    assert hub.scalars(select(PersonRecord.agency_record_id)).all() == ["P1"]
    assert hub.scalars(select(InformationItem.item_ref)).all() == ["CAD-1"]


def test_the_files_of_one_import_are_one_extract_for_remove_missing(
    hub: Session, tmp_path: Path
) -> None:
    from node.store.models import Subject

    first, second = (
        write_csv(tmp_path / "a.csv", PEOPLE[:1]),
        write_csv(tmp_path / "b.csv", PEOPLE[1:]),
    )
    result = import_files(hub, ADMIN, "police", [second, first], remove_missing=True)
    assert [f.removed for f in result.files] == [0, 0]
    assert sorted(hub.scalars(select(PersonRecord.agency_record_id))) == ["P1", "P2"]
    assert count(hub, Subject) == 2
    assert _keys_by_record(hub) == {row["record_id"]: _expected_keys(row) for row in PEOPLE}
    third = dict(ITEMS[0], item_ref="CAD-3")
    items = [write_csv(tmp_path / "i.csv", ITEMS[:1]), write_csv(tmp_path / "k.csv", [third])]
    import_files(hub, ADMIN, "police", [*items, write_csv(tmp_path / "j.csv", ITEMS[1:])])
    result = import_files(hub, ADMIN, "police", [first, *items], remove_missing=True)
    # P2 goes with its item CAD-2; CAD-1 and CAD-3 stay, each missing from one items file.
    assert [(f.kind, f.removed) for f in result.files] == [
        ("persons", 1),
        ("items", 0),
        ("items", 0),
    ]
    assert hub.scalars(select(PersonRecord.agency_record_id)).all() == ["P1"]
    assert sorted(hub.scalars(select(InformationItem.item_ref))) == ["CAD-1", "CAD-3"]


def test_an_older_record_in_two_files_of_one_import_is_refused(
    hub: Session, tmp_path: Path
) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "a.csv", PEOPLE)])
    keys = _keys_by_record(hub)
    changed = dict(PEOPLE[0], surname="Smith-Jones", postcode="N16 7AB")
    both = [write_csv(tmp_path / "b.csv", PEOPLE), write_csv(tmp_path / "c.csv", [changed])]
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", both)
    assert [str(e) for e in caught.value.errors] == [
        f"{both[1]}:2:record_id: repeats the record_id of {both[0]}:2 "
        "(a record belongs in one file of an import)"
    ]
    assert _keys_by_record(hub) == keys
    assert hub.scalars(select(PersonRecord.surname).order_by(PersonRecord.id)).all() == [
        "Smith",
        "Begum",
    ]


def test_field_errors_of_a_row_come_field_by_field(hub: Session, tmp_path: Path) -> None:
    row = dict(PEOPLE[0], forenames="Jo\x01", surname="S" * 201)
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [write_jsonl(tmp_path / "p.jsonl", [row])])
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("forenames", "contains control characters (U+0001)"),
        ("surname", "longer than 200 characters"),
    ]


def test_mistyped_nhs_number_and_bad_postcode_are_kept_but_not_matched(
    hub: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv", [dict(PEOPLE[0], nhs_number="9434765918", postcode="NOT A PC")]
    )
    result = import_files(hub, ADMIN, "police", [path])
    assert sum(result.files[0].warnings.values()) == 2
    record = hub.scalars(select(PersonRecord)).one()
    assert (record.nhs_number, record.nhs_number_norm) == ("9434765918", None)
    assert (record.postcode, record.postcode_norm) == ("NOT A PC", None)


def test_only_administrators_import(hub: Session, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied):
        import_files(hub, professional("police"), "police", [write_csv(tmp_path / "p.csv", PEOPLE)])


def test_unknown_agency_is_refused(hub: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="1 problem"):
        import_files(hub, ADMIN, "fire-brigade", [write_csv(tmp_path / "p.csv", PEOPLE)])


def test_control_characters_are_refused_but_tabs_and_newlines_kept(
    hub: Session, tmp_path: Path
) -> None:
    rows = [dict(PEOPLE[0], address="Flat 1\nHigh Street\t"), dict(PEOPLE[1], surname="Be\x07gum")]
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [write_jsonl(tmp_path / "p.jsonl", rows)])
    assert [(e.line, e.field, e.reason) for e in caught.value.errors] == [
        (2, "surname", "contains control characters (U+0007)")
    ]


def _keys_by_record(session: Session) -> dict[str, set[bytes]]:
    rows = session.execute(
        select(PersonRecord.agency_record_id, MatchKey.key_value).join(
            PersonRecord, PersonRecord.id == MatchKey.record_id
        )
    )
    found: dict[str, set[bytes]] = {}
    for record_id, value in rows:
        found.setdefault(record_id, set()).add(value)
    return found


def _expected_keys(row: dict[str, str]) -> set[bytes]:
    identity = Identity.from_fields(
        row["forenames"], row["surname"], row["date_of_birth"], row["postcode"], row["nhs_number"]
    )
    return {key.value for key in derive_keys(identity)}


def test_a_row_without_a_surname_is_imported_when_something_else_identifies_it(
    hub: Session, tmp_path: Path
) -> None:
    blank = {"forenames": "", "surname": "", "date_of_birth": "", "postcode": "", "nhs_number": ""}
    named = dict(blank, record_id="N1", forenames="Amy", date_of_birth="03/07/2015")
    numbered = dict(blank, record_id="N2", nhs_number="943 476 5919", date_of_birth="2015-03-14")
    refused = [
        dict(blank, record_id="N3", forenames="Baby", date_of_birth="03/07/2015"),
        dict(blank, record_id="N4", forenames="Amy"),
        dict(blank, record_id="N5", nhs_number="0000000000"),
        dict(blank, record_id="N6", date_of_birth="03/07/2015", postcode="E8 1AB"),
    ]
    people = write_csv(tmp_path / "people.csv", [named, numbered, *refused])
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [people])
    assert [str(e) for e in caught.value.errors] == [
        f"{people}:{line}:surname: {SURNAME_REQUIRED}" for line in (4, 5, 6, 7)
    ]

    result = import_files(hub, ADMIN, "police", [write_csv(tmp_path / "ok.csv", [named, numbered])])
    assert result.files[0].inserted == 2
    keys = _keys_by_record(hub)
    assert "N1" not in keys  # no key class does without a surname or an NHS number
    assert keys["N2"] == _expected_keys(numbered) != set()
    # and its NHS number links it to a record of the same number that has a surname
    import_files(hub, ADMIN, "health", [write_csv(tmp_path / "health.csv", [PEOPLE[0]])])
    rows = hub.execute(select(PersonRecord.agency_record_id, PersonRecord.subject_id))
    subjects = {record_id: subject_id for record_id, subject_id in rows}
    assert subjects["N2"] == subjects["P1"]


def test_a_worker_process_prepares_as_the_importer_does(
    hub: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "WORKER_MIN_BYTES", 0)  # every file goes to a worker
    monkeypatch.setattr(service, "BATCH", 1)
    result = import_files(hub, ADMIN, "police", [write_csv(tmp_path / "a.csv", PEOPLE)])
    assert (result.files[0].rows, result.files[0].inserted) == (2, 2)
    assert _keys_by_record(hub) == {row["record_id"]: _expected_keys(row) for row in PEOPLE}
    names = hub.scalars(select(PersonName.surname_norm).order_by(PersonName.record_id)).all()
    assert names == ["smith", "begum"]
    rows = [*PEOPLE, {"record_id": "P1", "surname": "Again"}, {"record_id": "", "surname": "X"}]
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [write_csv(tmp_path / "bad.csv", rows)])
    assert [(e.line, e.field) for e in caught.value.errors] == [(4, "record_id"), (5, "record_id")]
    # Batches of one row, each prepared by whichever process claimed it: errors in file order.
    people = [dict(PEOPLE[0], record_id=f"Q{n}") for n in range(5)]
    rows = [*people, dict(PEOPLE[1], record_id="Q4"), {"record_id": "Q9", "surname": ""}]
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [write_csv(tmp_path / "split.csv", rows)])
    assert [str(e).split(":", 1)[1] for e in caught.value.errors] == [
        "7:record_id: repeats the record_id of line 6",
        f"8:surname: {SURNAME_REQUIRED}",
    ]


def test_each_batch_is_claimed_once_and_only_the_lowest_unclaimed_can_be() -> None:
    import multiprocessing

    from node.importing.prepare import _Claims

    claims = _Claims(multiprocessing.get_context("spawn"))
    assert claims.claim(0)
    assert not claims.claim(0)  # the other process reached it second: it skips it
    assert not claims.claim(2)  # batch 1 is not claimed yet: 2 cannot be
    assert claims.claim(1) and claims.claim(2)


def test_batches_another_process_prepares_are_read_through_and_marked(tmp_path: Path) -> None:
    from node.importing.prepare import prepare_persons

    people = [dict(PEOPLE[0], record_id=f"Q{n}") for n in range(5)]
    path = write_csv(tmp_path / "q.csv", people)
    batches = list(prepare_persons(path, "police", True, 2, lambda n: n != 1, yield_skipped=True))
    assert [(b.number, b.rows, b.skipped, len(b.persons)) for b in batches] == [
        (0, 2, False, 2),
        (1, 2, True, 0),
        (2, 1, False, 1),
    ]
    assert [p.record_id for b in batches for p in b.persons] == ["Q0", "Q1", "Q4"]
    assert batches[1].position <= batches[2].position == path.stat().st_size


def test_reimport_replaces_a_records_match_keys(hub: Session, tmp_path: Path) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "a.csv", PEOPLE)])
    changed = [dict(PEOPLE[0], surname="Smith-Jones", postcode="N16 7AB"), PEOPLE[1]]
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "b.csv", changed)])
    assert _keys_by_record(hub) == {row["record_id"]: _expected_keys(row) for row in changed}


def test_removed_records_take_their_match_keys_with_them(hub: Session, tmp_path: Path) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "a.csv", PEOPLE)])
    only_first = write_csv(tmp_path / "b.csv", PEOPLE[:1])
    import_files(hub, ADMIN, "police", [only_first], remove_missing=True)
    assert set(_keys_by_record(hub)) == {"P1"}
    assert count(hub, MatchKey) == len(_expected_keys(PEOPLE[0]))


def test_a_record_or_item_in_two_files_of_one_import_is_refused(
    hub: Session, tmp_path: Path
) -> None:
    changed = [dict(PEOPLE[1], record_id="P3"), dict(PEOPLE[0], surname="Smith-Jones")]
    first, second = (
        write_csv(tmp_path / "a.csv", PEOPLE),
        write_jsonl(tmp_path / "b.jsonl", changed),
    )
    items = write_csv(tmp_path / "i.csv", ITEMS), write_csv(tmp_path / "j.csv", ITEMS[1:])
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [first, second, *items])
    assert [str(e) for e in caught.value.errors] == [
        f"{second}:2:record_id: repeats the record_id of {first}:2 "
        "(a record belongs in one file of an import)",
        f"{items[1]}:2:item_ref: repeats the item_ref of {items[0]}:3 "
        "(an item belongs in one file of an import)",
    ]
    assert count(hub, PersonRecord) == count(hub, InformationItem) == 0


@pytest.mark.parametrize("hasher", [hash, lambda _id: 0], ids=["real hashes", "every hash clashes"])
def test_repeated_record_ids_are_found_exactly_even_when_hashes_clash(
    tmp_path: Path, hasher: Callable[[str], int]
) -> None:
    from node.importing.prepare import _RecordIds

    rows = [{"record_id": f"R{n}", "surname": "Smith"} for n in range(6)]
    rows.append({"record_id": "R2", "surname": "Jones"})  # line 8 repeats line 4
    path = write_csv(tmp_path / "p.csv", rows)
    ids = _RecordIds(path, hasher)
    firsts = [ids.first_line(row["record_id"], line) for line, row in enumerate(rows, start=2)]
    assert firsts == [2, 3, 4, 5, 6, 7, 4]


def _take_and_die(counter: object) -> None:
    counter.get_lock().acquire()  # type: ignore[attr-defined]  # and never released


def test_a_claim_does_not_wait_for_ever_on_a_worker_that_died_holding_the_counter() -> None:
    import multiprocessing
    import threading

    from node.importing.prepare import _Claims

    context = multiprocessing.get_context("spawn")
    claims = _Claims(context)
    # A worker killed inside claim() leaves the counter's lock taken.
    claims.other = context.Process(target=_take_and_die, args=(claims.unclaimed,))
    claims.other.start()
    claims.other.join()
    raised: list[BaseException] = []

    def claim() -> None:
        try:
            claims.claim(0)
        except RuntimeError as exc:
            raised.append(exc)

    claimer = threading.Thread(target=claim, daemon=True)
    claimer.start()
    claimer.join(timeout=30)
    assert not claimer.is_alive(), "claim() still waits for a lock nobody will release"
    assert len(raised) == 1 and "the worker stopped" in str(raised[0])


# Malformed extracts, each as issue 9 found them: refused at its line and field, nothing written.
_GOOD = {"record_id": "M1", "forenames": "Amy", "surname": "Jones", "date_of_birth": "2015-03-14"}
_MALFORMED_JSONL: list[tuple[str, str, str, str]] = [
    # (what, the second line of a JSON Lines persons file, field, reason starts with)
    ("lone surrogate", '{"record_id": "M2", "surname": "Jo\\ud800nes"}', "surname", "is not UTF-8"),
    (
        "deep nesting",
        '{"record_id": "M2", "surname": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "row",
        "nests deeper than the 2 levels",
    ),
    (
        "shallow nesting",
        '{"record_id": "M2", "surname": "A", "aliases": [["B"]]}',
        "row",
        "nests deeper",
    ),
    (
        "5,000-digit integer",
        '{"record_id": ' + "9" * 5_000 + ', "surname": "A"}',
        "row",
        "has a number of more than 30 characters",
    ),
    ("NaN surname", '{"record_id": "M2", "surname": NaN}', "row", "has NaN"),
    (
        "number surname",
        '{"record_id": "M2", "surname": 12}',
        "surname",
        "must be text, not a number",
    ),
    (
        "duplicate keys",
        '{"record_id": "M2", "surname": "A", "surname": "B"}',
        "surname",
        "is given twice",
    ),
    (
        "NUL in an alias",
        '{"record_id": "M2", "surname": "A", "aliases": ["B\\u0000C"]}',
        "aliases",
        "an alias contains control characters (U+0000)",
    ),
    (
        "ESC in a free field",
        '{"record_id": "M2", "surname": "A", "pnc": "x\\u001b[31m"}',
        "pnc",
        "contains control characters (U+001B)",
    ),
    (
        "DEL in a surname",
        '{"record_id": "M2", "surname": "A\\u007fB"}',
        "surname",
        "contains control characters (U+007F)",
    ),
    (
        "C1 in a surname",
        '{"record_id": "M2", "surname": "A\\u0085B"}',
        "surname",
        "contains a line break (U+0085)",
    ),
    (
        "bidi override",
        '{"record_id": "M2", "surname": "A\\u202eB"}',
        "surname",
        "contains a bidirectional control (U+202E)",
    ),
    (
        "zero-width space",
        '{"record_id": "M2\\u200b", "surname": "A"}',
        "record_id",
        "contains an invisible character (U+200B)",
    ),
    (
        "newline in a surname",
        '{"record_id": "M2", "surname": "A\\nB"}',
        "surname",
        "contains a line break (U+000A)",
    ),
    (
        "full-width NHS number",
        '{"record_id": "M2", "surname": "A", "nhs_number": "９４３４７６５９１９"}',
        "nhs_number",
        "must be 10 digits 0-9",
    ),
    (
        "superscript NHS number",
        '{"record_id": "M2", "surname": "A", "nhs_number": "⁹⁴³⁴⁷⁶⁵⁹¹⁹"}',
        "nhs_number",
        "must be 10 digits 0-9",
    ),
    (
        "too many aliases",
        '{"record_id": "M2", "surname": "A", "aliases": '
        + json.dumps([f"Alias {n}" for n in range(20_000)])
        + "}",
        "aliases",
        "has 20000 names; at most 20 a record",
    ),
    (
        "born before 1900",
        '{"record_id": "M2", "surname": "A", "date_of_birth": "0001-01-01"}',
        "date_of_birth",
        "is in the future or before 1900",
    ),
    (
        "too long",
        '{"record_id": "' + "M" * 101 + '", "surname": "A"}',
        "record_id",
        "longer than 100 characters",
    ),
    (
        "a byte order mark mid-file",
        '\ufeff{"record_id": "M2", "surname": "A"}',
        "row",
        "starts with a byte order mark",
    ),
]


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [case[1:] for case in _MALFORMED_JSONL],
    ids=[case[0] for case in _MALFORMED_JSONL],
)
def test_a_malformed_json_line_is_refused_at_its_line_and_field(
    hub: Session, tmp_path: Path, line: str, field: str, reason: str
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps(_GOOD) + "\n" + line + "\n", encoding="utf-8", errors="surrogatepass"
    )
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [path])
    assert [(e.file, e.line, e.field) for e in caught.value.errors] == [(str(path), 2, field)]
    assert caught.value.errors[0].reason.startswith(reason)
    assert count(hub, PersonRecord) == count(hub, PersonName) == count(hub, MatchKey) == 0


def test_bad_bytes_and_characters_in_a_csv_are_named_by_line_and_field(
    hub: Session, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        "\ufeffrecord_id,surname,aliases,nhs_number,note\n".encode()
        + b"M1,Jones,,,\n"
        + "M2,M\xfcller,,,\n".encode("latin-1")  # Latin-1 in a UTF-8 file
        + "M3,Jo\u202ees,,,\n".encode()
        + 'M4,Smith,"B\u200bC",,\n'.encode()
        + "M5,Smith,,９４３４７６５９１９,\n".encode()
        + b"M6,Smith,,,\x1b[0m\n"
        + b'M7,"Two\nLines",,,\n'
        + b'M8,Smith,,,"kept\nas text"\n'
    )
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [path])
    assert [(e.line, e.field, e.reason.split(" (")[0]) for e in caught.value.errors] == [
        (3, "surname", "is not UTF-8 text"),
        (4, "surname", "contains a bidirectional control"),
        (5, "aliases", "an alias contains an invisible character"),
        (6, "nhs_number", "must be 10 digits 0-9"),
        (7, "note", "contains control characters"),
        (9, "surname", "contains a line break"),
    ]
    assert count(hub, PersonRecord) == 0


def test_a_utf16_file_is_refused_as_such(hub: Session, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("record_id,surname\nM1,Jones\n".encode("utf-16"))
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [path])
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:1:file: the file is UTF-16 text (it starts with a UTF-16 byte order mark); "
        "save the extract as UTF-8"
    ]


def test_an_item_dated_before_1900_is_refused(hub: Session, tmp_path: Path) -> None:
    import_files(hub, ADMIN, "police", [write_csv(tmp_path / "people.csv", PEOPLE)])
    items = write_csv(tmp_path / "i.csv", [dict(ITEMS[0], date="0001-01-01")])
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [items])
    assert [(e.line, e.field, e.reason) for e in caught.value.errors] == [
        (2, "date", "is before 1900")
    ]


def test_a_mixed_script_name_is_kept_and_noted(hub: Session, tmp_path: Path) -> None:
    from node.importing.fields import MIXED_SCRIPTS

    rows = [dict(PEOPLE[0], surname="Sm\u0456th"), dict(PEOPLE[1], forenames="Аиша")]  # і: Cyrillic
    result = import_files(hub, ADMIN, "police", [write_csv(tmp_path / "p.csv", rows)])
    assert result.files[0].inserted == 2
    assert result.files[0].warnings == {MIXED_SCRIPTS: 1}  # an all-Cyrillic name is no mixture
    assert result.files[0].warned_at == {MIXED_SCRIPTS: [2]}


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("Sm\u0456th", True),  # a Cyrillic і among Latin letters
        ("Jоhn", True),  # a Cyrillic о
        ("Ｊohn", True),  # a full-width J
        ("José Ødegård", False),
        ("Oʼ Brien", False),  # a modifier letter apostrophe
        ("Σοφία", False),
        ("Аиша", False),
        ("山田 はなこ", False),
        ("김 민준", False),
        ("محمد", False),
    ],
)
def test_which_names_mix_scripts(name: str, mixed: bool) -> None:
    from node.importing.fields import mixes_scripts

    assert mixes_scripts(name) is mixed


def test_the_invisible_characters_are_unicodes_format_characters() -> None:
    import sys
    import unicodedata

    from node.importing.fields import character_problem

    refused = {
        code for code in range(sys.maxunicode + 1) if character_problem(chr(code), identifying=True)
    }
    expected = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
    }
    assert refused == expected


def test_json_depth_is_measured_without_recursion() -> None:
    from node.importing.fields import too_deep

    nested: list = []
    for _ in range(100_000):  # json.loads can return one nested deeper than Python recurses
        nested = [nested]
    assert too_deep({"aliases": nested})
    assert too_deep({"aliases": [["B"]]}) and too_deep({"aliases": [{}]})
    assert not too_deep({"aliases": ["A", "B"], "surname": "C"}) and not too_deep({})


@pytest.mark.parametrize("worker", [False, True], ids=["in process", "in a worker"])
def test_keep_going_imports_the_good_rows_and_returns_the_bad_ones(
    hub: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    if worker:
        monkeypatch.setattr(service, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(service, "BATCH", 2)  # bad rows in some batches, not others
    people = [dict(PEOPLE[0], record_id=f"Q{n}") for n in range(7)]
    people[1]["surname"] = "Jo\u202ees"
    people[4]["record_id"] = "Q3"  # repeats line 5
    people[5]["nhs_number"] = "１２３"
    path = write_csv(tmp_path / "p.csv", people)
    result = import_files(hub, ADMIN, "police", [path], keep_going=True)
    assert {
        line: [f for f, _ in errors] for line, errors in result.rejected[str(path)].items()
    } == {
        3: ["surname"],
        6: ["record_id"],
        7: ["nhs_number"],
    }
    assert (result.files[0].rows, result.files[0].inserted, result.files[0].refused) == (7, 4, 3)
    assert sorted(hub.scalars(select(PersonRecord.agency_record_id))) == ["Q0", "Q2", "Q3", "Q6"]
    assert set(_keys_by_record(hub)) == {"Q0", "Q2", "Q3", "Q6"}


def test_a_line_longer_than_a_row_can_be_is_refused_without_being_held_whole(
    hub: Session, tmp_path: Path
) -> None:
    from node.importing.fields import MAX_LINE_CHARS

    path = tmp_path / "p.jsonl"
    huge = json.dumps(dict(_GOOD, record_id="M2", address="x" * (2 * MAX_LINE_CHARS + 5)))
    path.write_text("\n".join([json.dumps(_GOOD), huge, json.dumps(dict(_GOOD, record_id="M3"))]))
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [path])
    assert [(e.line, e.field, e.reason) for e in caught.value.errors] == [
        (2, "row", "is longer than the 1,000,000 characters a row may be")
    ]
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("record_id,surname,note\nM1,Jones,ok\nM2,Jones," + "y" * 2 * MAX_LINE_CHARS)
    with pytest.raises(ImportRefused) as caught:
        import_files(hub, ADMIN, "police", [csv_path])
    first = caught.value.errors[0]
    assert (first.line, first.field, first.reason.split(":")[0]) == (3, "row", "cannot be read")
    assert count(hub, PersonRecord) == 0
