"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from node.store.models import Base


def test_no_model_change_lacks_a_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_match_keys_move_into_one_b_tree_keeping_every_key(tmp_path: Path) -> None:
    """0005 fills each record's match_key_values from match_keys, so that a store imported
    before it can still replace and delete its records' keys; and it undoes cleanly."""
    from alembic import command
    from sqlalchemy import select, text, update

    from node import match_key_set
    from node.importing.service import import_files
    from node.store.db import alembic_config, make_engine, make_sessionmaker, transaction, upgrade
    from node.store.models import MatchKey, PersonRecord
    from tests.helpers import ADMIN, make_hub, write_csv

    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    upgrade(engine)
    people = [
        {
            "record_id": "P1",
            "forenames": "John",
            "surname": "Smith",
            "date_of_birth": "2015-03-14",
            "postcode": "E8 1AB",  # a key class only key set 2 has: 0006 tells the set
        },
        {
            "record_id": "P2",
            "forenames": "Aisha",
            "surname": "Begum",
            "date_of_birth": "2011-07-14",
        },
    ]
    with transaction(make_sessionmaker(engine)) as session:
        make_hub(session)
        import_files(session, ADMIN, "police", [write_csv(tmp_path / "p.csv", people)])
        before = set(session.execute(select(MatchKey.key_value, MatchKey.record_id)).all())
        session.execute(update(PersonRecord).values(match_key_values=None))
    command.downgrade(alembic_config(engine), "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM match_keys")).scalar_one() == len(before)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        # Below 0007 keys have no class, so 0006 could not tell their key set (init would
        # re-derive them): say it, to import as the store was.
        assert match_key_set.stored_version(session) is None
        match_key_set.note_current(session)
        for record_id, packed in session.execute(
            select(PersonRecord.id, PersonRecord.match_key_values)
        ):
            values = {packed[at : at + 16] for at in range(0, len(packed), 16)}
            assert values == {value for value, owner in before if owner == record_id}
        import_files(
            session,
            ADMIN,
            "police",
            [write_csv(tmp_path / "q.csv", people[:1])],
            remove_missing=True,
        )
        after = session.execute(select(MatchKey.record_id).distinct()).scalars().all()
        assert len(after) == 1 and len(before) > len(session.execute(select(MatchKey)).all())
    engine.dispose()


@pytest.mark.parametrize(
    ("key_classes", "recorded"),
    [
        (("nhs", "short_name_dob_postcode"), "1"),
        (("nhs", "name_birthday_postcode", "nhs_near_surname"), "1"),
        (("nhs", "short_name_bday_postcode"), "2"),
        (("nhs", "name_dob"), None),
        ((), None),
    ],
)
def test_0006_reads_the_key_set_off_the_key_classes_a_store_holds(
    tmp_path: Path, key_classes: tuple[str, ...], recorded: str | None
) -> None:
    from alembic import command
    from sqlalchemy import text

    from node.store.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    command.upgrade(alembic_config(engine), "0005")
    with engine.begin() as conn:
        for number, key_class in enumerate(key_classes):
            conn.execute(
                text("INSERT INTO match_keys VALUES (:value, 1, :key_class)"),
                {"value": bytes([number]) * 16, "key_class": key_class},
            )
    command.upgrade(alembic_config(engine), "0006")
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT value FROM store_settings WHERE name = 'match_key_set'")
        ).scalar()
    assert value == recorded


def test_0007_drops_the_key_class_keeping_every_key_in_one_b_tree(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from node.store.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0006")
    keys = {(bytes([n]) * 16, n % 3 + 1) for n in range(50)}
    with engine.begin() as conn:
        for value, record_id in keys:
            conn.execute(
                text("INSERT INTO match_keys VALUES (:value, :record_id, 'name_dob')"),
                {"value": value, "record_id": record_id},
            )
    command.upgrade(config, "0007")
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT key_value, record_id FROM match_keys"))) == keys
        assert [c["name"] for c in inspect(conn).get_columns("match_keys")] == [
            "key_value",
            "record_id",
        ]
        table_sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'match_keys'")
        ).scalar_one()
        assert "WITHOUT ROWID" in table_sql
    command.downgrade(config, "0006")
    with engine.connect() as conn:
        rows = set(conn.execute(text("SELECT key_value, record_id, key_class FROM match_keys")))
        assert rows == {(value, record_id, "") for value, record_id in keys}
    engine.dispose()


def test_deleting_a_subject_finds_what_refers_to_it_through_an_index(tmp_path: Path) -> None:
    """An import deletes the subjects of records it joined to others: each delete checks the
    columns that refer to subjects, which must not mean reading a whole table (0008)."""
    from sqlalchemy import text

    from node.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    upgrade(engine)
    referring = [
        ("subjects", "merged_into_id"),
        ("person_records", "subject_id"),
        ("match_candidates", "subject_a_id"),
        ("match_candidates", "subject_b_id"),
        ("subject_merges", "survivor_id"),
        ("subject_merges", "merged_id"),
        ("referral_people", "subject_id"),
        ("incoming_disclosures", "subject_id"),
        ("harm_flags", "subject_id"),
    ]
    with engine.connect() as conn:
        found = {
            (row[2], row[3]) for row in conn.exec_driver_sql("PRAGMA foreign_key_list('subjects')")
        }
        tables = [t for (t,) in conn.exec_driver_sql("SELECT name FROM sqlite_master")]
        for table in tables:
            for fk in conn.exec_driver_sql(f"PRAGMA foreign_key_list('{table}')"):
                if fk[2] == "subjects":
                    found.add((table, fk[3]))
        assert found == set(referring)
        for table, column in referring:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE {column} = 7")
                )
            )
            assert "USING" in plan and "INDEX" in plan, (table, column, plan)
    engine.dispose()


@pytest.mark.parametrize("service", ["node", "coordinator"])
def test_a_store_a_newer_release_migrated_is_refused_and_left_as_it_is(
    tmp_path: Path, service: str
) -> None:
    """`init` of an older release must neither fail with alembic's words nor touch the store;
    opening it says which release to run."""
    from sqlalchemy import text

    if service == "node":
        from node.store import db
    else:
        from coordinator.store import db  # type: ignore[no-redef]
    engine = db.make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for step in (db.upgrade, db.require_current):
        with pytest.raises(db.StoreOutOfDate, match="at 9999, which a newer release made"):
            step(engine)
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
        )
    engine.dispose()
