"""Preparing a persons file for writing: rows validated, normalised and keyed, in file order.

The work here needs no database, so a large file is prepared in a worker process (spawned)
while the importing process writes the batches before it: the two cores each do half the work.
A small file is prepared in the importing process itself, by the same code. Every bad row is
reported, in file order; once a file has a bad row its later rows are only validated.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from node.importing.rows import RowError, RowInvalid, open_rows, parse_person
from node.matching.keys import Identity, derive_keys, name_forms
from node.subjects import pack_keys

UNUSED_POSTCODE = "postcode is not a UK postcode, so it is not used for matching"
UNUSED_NHS_NUMBER = "NHS number fails its check digit, so it is not used for matching"
WORKER_MIN_BYTES = 4 << 20  # below this a worker's start-up costs more than it saves
_QUEUE_DEPTH = 3  # batches prepared ahead of the writer: bounds the memory used

# The person_records columns a prepared row carries, in this order, after the id, subject and
# times that the writer adds.
DATA_COLUMNS = (
    "agency_code",
    "agency_record_id",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "nhs_number",
    "extra",
    "postcode_norm",
    "nhs_number_norm",
)


class PreparedPerson(NamedTuple):
    """One valid person row as the writer needs it: column values ready for the driver, its
    name forms (person_names columns after record_id) and its match keys, packed."""

    line: int
    record_id: str
    data: tuple[Any, ...]
    names: list[tuple[Any, ...]]
    keys: tuple[bytes, str]


@dataclass
class Prepared:
    """A batch of a file: its valid rows (none once the file had a bad row), its bad rows'
    errors in file order, how many rows and bytes it covered, and the warnings it raised."""

    persons: list[PreparedPerson] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    bytes_read: int = 0
    warnings: dict[str, int] = field(default_factory=dict)


def prepare_persons(path: Path, agency: str, dates_as_text: bool, batch: int) -> Iterator[Prepared]:
    """Read, validate and key a persons file; yields batches of about `batch` rows.

    `dates_as_text` writes dates as ISO text (what SQLite stores), else as dates (PostgreSQL).
    """
    read = [0]

    def on_read(count: int) -> None:
        read[0] += count

    _kind, rows = open_rows(path, on_read)
    name = str(path)
    seen: dict[str, int] = {}
    failed = False
    out = Prepared()
    for line, raw in rows:
        out.rows += 1
        if "__error__" in raw:
            out.errors.append(RowError(name, line, "row", raw["__error__"]))
            failed = True
        else:
            try:
                row = parse_person(line, raw)
            except RowInvalid as exc:
                out.errors.extend(RowError(name, line, f, reason) for f, reason in exc.errors)
                failed = True
            else:
                first = seen.setdefault(row.record_id, line)
                if first != line:
                    reason = f"repeats the record_id of line {first}"
                    out.errors.append(RowError(name, line, "record_id", reason))
                    failed = True
                elif not failed:
                    out.persons.append(_prepare(row, agency, dates_as_text, out.warnings))
        if out.rows >= batch:
            out.bytes_read, read[0] = read[0], 0
            yield out
            out = Prepared()
    out.bytes_read = read[0]
    yield out


def _prepare(
    row: Any, agency: str, dates_as_text: bool, warnings: dict[str, int]
) -> PreparedPerson:
    identity = Identity.from_fields(
        forenames=row.forenames,
        surname=row.surname,
        date_of_birth=row.date_of_birth,
        postcode=row.postcode,
        nhs_number=row.nhs_number,
        aliases=row.aliases,
    )
    if row.postcode and identity.postcode is None:
        warnings[UNUSED_POSTCODE] = warnings.get(UNUSED_POSTCODE, 0) + 1
    if row.nhs_number and identity.nhs_number is None:
        warnings[UNUSED_NHS_NUMBER] = warnings.get(UNUSED_NHS_NUMBER, 0) + 1
    born = row.date_of_birth
    if born is not None and dates_as_text:
        born = born.isoformat()
    data = (
        agency,
        row.record_id,
        row.forenames,
        row.surname,
        json.dumps(list(row.aliases)) if row.aliases else "[]",
        born,
        row.gender,
        row.address,
        row.postcode,
        row.nhs_number,
        json.dumps(row.extra) if row.extra else "{}",
        identity.postcode,
        identity.nhs_number,
    )
    names = [
        (f.forename_norm, f.surname_norm, f.forename_phonetic, f.surname_phonetic, f.is_alias)
        for f in name_forms(identity)
    ]
    return PreparedPerson(row.line, row.record_id, data, names, pack_keys(derive_keys(identity)))


def prepared_batches(
    path: Path, agency: str, dates_as_text: bool, batch: int, worker_min_bytes: int
) -> Iterator[Prepared]:
    """The file's batches, prepared in a worker process when the file is large enough."""
    # A daemonic process (a pool's worker) may not start one of its own.
    if path.stat().st_size < worker_min_bytes or multiprocessing.current_process().daemon:
        yield from prepare_persons(path, agency, dates_as_text, batch)
        return
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue(maxsize=_QUEUE_DEPTH)
    worker = context.Process(
        target=_work, args=(results, path, agency, dates_as_text, batch), daemon=True
    )
    worker.start()
    started = False
    try:
        while True:
            try:
                message = results.get(timeout=1)
            except queue.Empty:
                if worker.is_alive():
                    continue
                if started:
                    raise RuntimeError(
                        f"preparing {path.name} stopped (exit code {worker.exitcode})"
                    ) from None
                # The worker could not start (say, a calling script that starts work on import,
                # which a spawned process repeats): prepare here instead.
                yield from prepare_persons(path, agency, dates_as_text, batch)
                return
            started = True
            if message is None:
                break
            if isinstance(message, BaseException):
                raise message
            yield message
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _work(results: Any, path: Path, agency: str, dates_as_text: bool, batch: int) -> None:
    """Worker process: prepare the file and send each batch, then None (or the exception)."""
    import gc

    gc.set_threshold(200_000, 50, 100)  # as the importing process does: no cycles to find
    try:
        for prepared in prepare_persons(path, agency, dates_as_text, batch):
            results.put(prepared)
    except Exception as exc:
        results.put(exc)
    results.put(None)
