"""Fast bulk writes for imports: driver-level executemany with SQLAlchemy's own type conversion.

The ORM's unit of work costs tens of microseconds a row; an import of a million records cannot
pay that. These helpers keep SQLAlchemy's column types (dates, JSON, UTC times) but hand plain
tuples to the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, LargeBinary, Table, text


def insert_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # Table and column names come from the models, never from input.
    names, marks = ", ".join(columns), ", ".join(mark for _ in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608


def converter(
    conn: Connection, table: Table, columns: Sequence[str]
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function turning Python values into what the driver takes for these columns."""
    processors = [
        None
        if isinstance(table.c[name].type, LargeBinary)  # drivers take bytes as they are
        else table.c[name].type._cached_bind_processor(conn.dialect)
        for name in columns
    ]
    active = [(i, p) for i, p in enumerate(processors) if p is not None]
    if not active:
        return tuple

    def convert(values: Sequence[Any]) -> tuple[Any, ...]:
        out = list(values)
        for index, process in active:
            out[index] = process(out[index])
        return tuple(out)

    return convert


def insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    convert = converter(conn, table, columns)
    batch = [convert(row) for row in rows]
    if batch:
        conn.exec_driver_sql(insert_sql(conn, table.name, columns), batch)


def write_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows of driver-ready values: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)  # table and column names come from the code, never from input
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.exec_driver_sql(insert_sql(conn, table, columns), rows)


def write_packed(
    conn: Connection,
    table: str,
    constants: Mapping[str, Any],
    columns: Mapping[str, tuple[bytes, int]],
) -> int:
    """Append rows whose columns are fixed-width byte strings packed end to end: for each
    column, (its values joined, the width of one); every other column takes a constant. Returns
    the number of rows.

    On SQLite one statement cuts the rows apart (substr counts bytes in a BLOB) instead of the
    driver binding every row's values from Python: about a quarter of executemany's CPU for the
    index's millions of 24-byte rows. PostgreSQL copies the rows (COPY) as write_rows does.
    """
    counts = {len(packed) // width for packed, width in columns.values()}
    if len(counts) != 1 or any(len(p) % width for p, width in columns.values()):
        raise ValueError(f"{table}: packed columns of unequal length or not of whole rows")
    [count] = counts
    if count == 0:
        return 0
    names = [*constants, *columns]
    if conn.dialect.name == "postgresql":
        fixed = tuple(constants.values())
        cut = [
            [packed[at : at + width] for at in range(0, len(packed), width)]
            for packed, width in columns.values()
        ]
        write_rows(conn, table, names, [fixed + tuple(row) for row in zip(*cut, strict=True)])
        return count
    parameters: dict[str, Any] = {f"c{i}": value for i, value in enumerate(constants.values())}
    parameters["count"] = count
    values = [f":c{i}" for i in range(len(constants))]
    for i, (packed, width) in enumerate(columns.values()):
        parameters[f"p{i}"] = packed
        values.append(f"substr(:p{i}, n * {width} + 1, {width})")
    # Table and column names come from the models, widths are ints: nothing here is input.
    rows = "WITH RECURSIVE packed(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM packed WHERE n + 1 < :count)"
    sql = f"{rows} INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM packed"  # noqa: S608
    conn.exec_driver_sql(sql, parameters)
    return count


def execute_many(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run driver-level SQL written with '?' placeholders for every row."""
    if not rows:
        return
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, rows)


def allocate_ids(conn: Connection, table: Table, count: int) -> Sequence[int]:
    """Reserve `count` primary keys for rows about to be inserted in bulk.

    PostgreSQL draws them from the table's sequence. SQLite has no sequence, but every write
    transaction there holds the database's write lock from its start (BEGIN IMMEDIATE), so the
    ids above the current maximum are this transaction's alone.
    """
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
        return [row[0] for row in rows]
    start = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")).scalar_one()  # noqa: S608
    return range(start + 1, start + 1 + count)  # a range: no list of a million ints


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
