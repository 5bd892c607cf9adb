"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

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

    from node.importing.service import import_files
    from node.store.db import alembic_config, make_engine, make_sessionmaker, transaction, upgrade
    from node.store.models import MatchKey, PersonRecord
    from tests.helpers import ADMIN, make_hub, write_csv

    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    upgrade(engine)
    people = [
        {"record_id": "P1", "forenames": "John", "surname": "Smith", "date_of_birth": "2015-03-14"},
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
