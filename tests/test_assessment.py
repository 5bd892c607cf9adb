"""The strategic assessment: no count from 1 to 4 anywhere, no hidden count recoverable from a
total, totals consistent; aggregates for the manager and the partnership analyst only, audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access import AccessDenied, Actor
from node.assessment.figures import assess, parse_period
from node.assessment.suppression import SMALL, suppress
from node.config import load_config, render_config
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.store.models import AuditEntry, Pathway, Role
from tests.helpers import MANAGER, make_hub, professional

ANALYST = Actor("analyst", Role.PARTNERSHIP_ANALYST)


def lines(grid) -> list[list[int | None]]:
    rows = [list(r) for r in grid.cells]
    return rows + [list(c) for c in zip(*rows, strict=True)]


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.integers(1, 6).flatmap(
        lambda w: st.lists(st.lists(st.integers(0, 30), min_size=w, max_size=w), max_size=6)
    )
)
def test_no_small_count_is_shown_nor_recoverable_and_shown_totals_add_up(counts) -> None:
    width = len(counts[0]) if counts else 3
    grid = suppress(counts, width)
    for row in grid.cells:
        assert not any(v in SMALL for v in row if v is not None)
    truth = [[*r, sum(r)] for r in counts]
    truth.append([sum(r[c] for r in truth) for c in range(width + 1)])
    for i, row in enumerate(grid.cells):  # what is shown is true
        assert all(v is None or v == truth[i][j] for j, v in enumerate(row))
    for line in lines(grid):
        hidden = sum(v is None for v in line)
        assert hidden != 1  # one hidden count in a line is its total minus the rest
        if hidden == 0:
            assert line[-1] == sum(line[:-1])


@pytest.fixture
def policy(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    return load_config(path).referrals


def test_the_assessment_is_aggregates_with_small_counts_hidden_and_audited(
    session: Session, policy
) -> None:
    make_hub(session)
    today = dt.date.today()
    received = dt.datetime.combine(today.replace(day=1), dt.time(10), tzinfo=dt.UTC)
    for i in range(9):
        agency = "police" if i < 7 else "health"
        record_contact(
            session,
            MANAGER,
            NewContact(
                Pathway.CHILD,
                "agency",
                ("missing",) if i % 2 else ("neglect",),
                "Worry",
                (PersonDetails(surname=f"Child{i}", postcode="E8 1AB"),),
                source_agency=agency,
                received_at=received,
            ),
            policy,
        )
    made = assess(session, ANALYST, parse_period(str(today.year)), purpose="csv")
    assert made.contacts == 9
    sources = next(t for t in made.tables if t.key == "sources")
    shown = dict((row[0], row[-1]) for row in sources.rows())
    # Health's 2 is hidden, and so is Police's 7, which with the total of 9 would reveal it.
    assert (shown["Police"], shown["Health"], shown["Total"]) == ("*", "*", "9")
    for table in made.tables:
        for row in table.rows():
            assert not any(cell in {"1", "2", "3", "4"} for cell in row[1:])
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "assessment.generate")
    ).all()[-1]
    assert entry.actor == "analyst" and '"csv"' in entry.detail
    with pytest.raises(AccessDenied):
        assess(session, professional("police"), parse_period(str(today.year)))
