"""The coordinator's store: its migrations build exactly what the models describe, on both
databases; the seed is the founding report's facts and changes nothing run again; and nothing in
the schema can hold a person's details."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from coordinator.rollout.seed import seed
from coordinator.store.models import (
    Agreement,
    Base,
    Borough,
    BoroughPartner,
    FrameworkLevel,
    Stage,
    Wave,
)

PERSONAL = ("forename", "surname", "date_of_birth", "dob", "postcode", "nhs", "address", "gender")
# The network address a staff member signed in from (to slow down guessing), not a home address.
STAFF_ONLY = {"sign_in_attempts.address"}


def test_no_model_change_lacks_a_migration(coordinator_engine: Engine) -> None:
    with coordinator_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_seed_is_londons_33_authorities_the_14_considering_and_the_four_waves(
    db: Session,
) -> None:
    boroughs = list(db.scalars(select(Borough)))
    considering = {b.name for b in boroughs if b.considering}
    waves = list(db.scalars(select(Wave).order_by(Wave.number)))

    assert len(boroughs) == 33
    assert "City of London" in {b.name for b in boroughs}
    assert considering == {
        "Hackney", "Harrow", "Lambeth", "Brent", "Southwark", "Tower Hamlets", "Lewisham",
        "Waltham Forest", "Haringey", "Westminster", "Islington", "Hammersmith and Fulham",
        "Sutton", "Kensington and Chelsea",
    }  # fmt: skip
    assert all(b.stage is Stage.CONSIDERING for b in boroughs if b.considering)
    assert [(w.name, w.planned_hubs, w.is_pilot) for w in waves] == [
        ("Pilot wave 1", 2, True),
        ("Pilot wave 2", 4, True),
        ("Wave 3", 8, False),
        ("Rest of London", 19, False),
    ]
    assert sum(1 for b in boroughs if b.wave_id == waves[3].id) == 19
    assert len({(b.grid_column, b.grid_row) for b in boroughs}) == 33
    assert db.scalar(select(func.count()).select_from(Agreement)) == 99
    assert db.scalar(select(func.count()).select_from(FrameworkLevel)) == 5
    assert db.scalar(select(func.count()).select_from(BoroughPartner)) == 330


def test_seeding_again_changes_nothing(db: Session) -> None:
    again = seed(db)
    assert (again.boroughs, again.waves) == (0, 0)
    assert db.scalar(select(func.count()).select_from(Borough)) == 33


def test_no_table_has_a_column_for_a_persons_details() -> None:
    columns = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(word in column.name.lower() for word in PERSONAL)
        and f"{table.name}.{column.name}" not in STAFF_ONLY
    ]
    assert columns == []
