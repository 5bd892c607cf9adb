"""The evaluation figures at the coordinator: a report stored once per borough and month (a
resent one replaces, never adds), a report with an unsuppressed count of 1 to 4 refused whole,
London-wide sums that say what they leave out, the comparisons, the demo data, and the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.errors import DomainError
from coordinator.evaluation import analysis, reports
from coordinator.evaluation.demo_data import write_demo_data
from coordinator.evaluation.ingest import ReportRefused, store_report
from coordinator.rollout import plan
from coordinator.store.models import (
    EvaluationCount,
    EvaluationReport,
    ReceiptOutcome,
    ReportReceipt,
    Stage,
)
from mash_common.evaluation import CountFigure, MonthlyFigures, StatisticFigure, problems
from tests.coordinator.conftest import EDITOR

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def figures(month: str = "2026-10", *, contacts: int = 120, at: int = 1, **extra) -> MonthlyFigures:  # type: ignore[no-untyped-def]
    counts = [
        CountFigure("contacts.total", "all", contacts),
        CountFigure("contacts.source", "police", 60),
        CountFigure("contacts.source", "public", 0, True),
        CountFigure("decisions.rag", "amber", 40),
        CountFigure("decisions.within_deadline", "amber", 30),
        *extra.pop("counts", ()),
    ]
    return MonthlyFigures(
        month=month,
        counts=tuple(counts),
        statistics=(
            StatisticFigure("turnaround.mean_working_days", "amber", 2.0, 40),
            StatisticFigure("turnaround.mean_working_days", "red", 0.0, 0, True),
        ),
        generated_at_ms=1_790_000_000_000 + at,
        **extra,
    )


def store(db: Session, borough: str, report: MonthlyFigures) -> ReceiptOutcome:
    return store_report(db, borough, report, envelope=b"signed", key_id="k1", now=NOW)


def test_a_resent_report_replaces_never_adds_and_an_older_one_is_kept_out(db: Session) -> None:
    first = store(db, "hackney", figures(contacts=120, at=1))
    again = store(db, "hackney", figures(contacts=130, at=2))
    older = store(db, "hackney", figures(contacts=110, at=0))

    reports_held = db.scalar(select(func.count()).select_from(EvaluationReport))
    total = db.scalar(
        select(EvaluationCount.value).where(EvaluationCount.family == "contacts.total")
    )
    outcomes = [r.outcome for r in db.scalars(select(ReportReceipt).order_by(ReportReceipt.id))]
    assert (first, again, older) == (
        ReceiptOutcome.STORED,
        ReceiptOutcome.REPLACED,
        ReceiptOutcome.ALREADY_NEWER,
    )
    assert (reports_held, total) == (1, 130)
    assert outcomes == [
        ReceiptOutcome.STORED,
        ReceiptOutcome.REPLACED,
        ReceiptOutcome.ALREADY_NEWER,
    ]


@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_a_report_with_an_unsuppressed_small_count_is_refused_whole(
    db: Session, value: int
) -> None:
    bad = figures(counts=[CountFigure("contacts.concern", "neglect", value)])

    with pytest.raises(ReportRefused) as refused:
        store(db, "hackney", bad)

    assert refused.value.field == "counts[5]"
    assert "contacts.concern/neglect" in refused.value.message
    assert db.scalar(select(func.count()).select_from(EvaluationReport)) == 0


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (figures("2026-13"), "month"),
        (figures("2027-01"), "month"),  # not begun by the coordinator's clock
        (figures(counts=[CountFigure("contacts.names", "x", 10)]), "counts[5]"),
        (figures(counts=[CountFigure("contacts.rag", "purple", 10)]), "counts[5]"),
        (figures(counts=[CountFigure("contacts.total", "all", 9)]), "counts[5]"),  # twice
        (figures(counts=[CountFigure("contacts.pathway", "adult", 7, True)]), "counts[5]"),
        (figures(schema_version=9), "schema_version"),
    ],
)
def test_every_bad_report_is_refused_naming_the_field(
    db: Session, report: MonthlyFigures, field: str
) -> None:
    with pytest.raises(ReportRefused) as refused:
        store(db, "hackney", report)
    assert refused.value.field == field


def test_a_statistic_over_fewer_than_five_must_be_suppressed() -> None:
    report = MonthlyFigures(
        "2026-10",
        (),
        (StatisticFigure("turnaround.median_hours", "red", 3.0, 3),),
        generated_at_ms=1,
    )
    [problem] = problems(report)
    assert problem.field == "statistics[0]"


def test_a_report_for_no_london_borough_is_refused(db: Session) -> None:
    with pytest.raises(DomainError) as refused:
        store(db, "atlantis", figures())
    assert refused.value.code.value == "not-found"


def test_london_sums_leave_out_suppressed_counts_and_say_so(db: Session) -> None:
    store(db, "hackney", figures(contacts=120))
    store(db, "lambeth", figures(contacts=80))
    store(db, "lambeth", figures("2026-09", contacts=70))

    loaded = analysis.load(db, dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    october = dt.date(2026, 10, 1)

    assert loaded.count("contacts.total", "all", october) == analysis.Cell(200, 0)
    assert loaded.count("contacts.source", "public", october) == analysis.Cell(0, 2)
    assert loaded.total("contacts.total", "all") == analysis.Cell(270, 0)
    stat = loaded.stat("turnaround.mean_working_days", "amber", october)
    assert (stat.value, stat.basis) == (2.0, 80)
    assert loaded.stat("turnaround.mean_working_days", "red", october).suppressed == 2
    assert loaded.reports == {dt.date(2026, 9, 1): 1, october: 2}


def test_before_and_after_go_live_and_the_pilot_against_later_waves(db: Session) -> None:
    from coordinator.rollout import read

    waves = {w.number: w.id for w in read.waves(db)}
    hackney = read.borough_detail(db, "hackney").summary
    plan.update_borough(
        db,
        EDITOR,
        "hackney",
        hackney.version,
        plan.BoroughPlan(Stage.HUB_LIVE, waves[1], None, dt.date(2026, 10, 12)),
        today=NOW.date(),
    )
    store(db, "hackney", figures("2026-09", contacts=100))
    store(db, "hackney", figures("2026-10", contacts=140))
    store(db, "hackney", figures("2026-11", contacts=160))

    comparison = analysis.compare(db, dt.date(2026, 9, 1), dt.date(2026, 11, 1), months_after=2)

    [row] = comparison.before_after
    assert (row.before.hub_months, row.after.hub_months) == (1, 2)
    assert row.after.contacts_a_month == 150
    assert row.after.within_share == 0.75
    assert comparison.pilot.boroughs == ("hackney",)
    assert [m.contacts.value for m in comparison.pilot.by_month_since] == [140, 160]
    assert comparison.later.measures.hub_months == 0


def test_demo_data_keeps_every_rule_and_fills_two_years(db: Session) -> None:
    written = write_demo_data(db, months=24, until=dt.date(2026, 11, 1), skip=("hackney",))

    assert written.reports == 32 * 24
    assert db.scalar(select(func.count()).select_from(EvaluationReport)) == 32 * 24
    assert (
        db.scalar(
            select(func.count())
            .select_from(EvaluationCount)
            .where(EvaluationCount.value > 0, EvaluationCount.value < 5)
        )
        == 0
    )
    period = reports.period(db, "interim", dt.date(2026, 12, 1))
    assert period.available and period.complete
    rows = list(csv.reader(io.StringIO(reports.csv_text(db, period))))
    assert rows[0] == [
        "section",
        "borough",
        "month",
        "measure",
        "category",
        "value",
        "basis",
        "note",
    ]
    assert {r[0] for r in rows[1:]} >= {"london", "borough", "before-after", "waves"}
    small = [
        r
        for r in rows[1:]
        if r[5].isdigit() and 0 < int(r[5]) < 5 and r[0] in ("london", "borough")
    ]
    assert small == []


def test_the_nodes_nonces_are_kept_in_the_store_until_they_expire(coordinator_engine) -> None:  # type: ignore[no-untyped-def]
    import secrets

    from coordinator.evaluation.nonces import StoredNonces
    from coordinator.store.db import make_sessionmaker

    now = [1_800_000_000.0]
    nonces = StoredNonces(make_sessionmaker(coordinator_engine), clock=lambda: now[0])
    first, other = secrets.token_bytes(32), secrets.token_bytes(32)
    expires = int(now[0] * 1000) + 300_000

    assert nonces.remember("hackney", first, expires)
    assert not nonces.remember("hackney", first, expires)  # a replay
    assert nonces.remember("camden", first, expires)  # another borough's own nonce
    again = StoredNonces(make_sessionmaker(coordinator_engine), clock=lambda: now[0])
    assert not again.remember("hackney", first, expires)  # after a restart too
    assert again.remember("hackney", other, expires)
