"""The interim and final evaluation reports: their periods (one and two years from the day the
first hub went live), what they say about the method, and their figures as CSV rows.

The pages draw the report (coordinator/web/reports), as HTML and, through WeasyPrint, as PDF,
from the same stored figures; the CSV carries every stored count and statistic of the period, by
borough and month, with the London-wide totals and the comparisons, small numbers still
suppressed ("fewer than 5").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.errors import NotFound
from coordinator.evaluation import analysis
from coordinator.store.models import (
    Borough,
    EvaluationCount,
    EvaluationReport,
    EvaluationStatistic,
)
from mash_common.evaluation import FAMILIES, FEWER_THAN, add_months, label, month_text

KINDS = {"interim": ("Interim evaluation report", 12), "final": ("Final evaluation report", 24)}


@dataclass(frozen=True)
class ReportPeriod:
    kind: str
    title: str
    months: int
    first_live: dt.date | None  # the day the first hub went live
    first: dt.date | None  # the month it went live
    last: dt.date | None  # the last month the report covers
    today: dt.date

    @property
    def available(self) -> bool:
        return self.first is not None

    @property
    def complete(self) -> bool:
        """Whether the period has ended (the report is then final for its period)."""
        return self.last is not None and add_months(self.last, 1) <= self.today

    @property
    def due(self) -> dt.date | None:
        """The day the report is due: one (or two) years after the first go-live."""
        if self.first_live is None:
            return None
        try:
            return self.first_live.replace(year=self.first_live.year + self.months // 12)
        except ValueError:  # 29 February
            return self.first_live.replace(year=self.first_live.year + self.months // 12, day=28)


def period(session: Session, kind: str, today: dt.date) -> ReportPeriod:
    if kind not in KINDS:
        raise NotFound(f"no {kind!r} report")
    title, months = KINDS[kind]
    first_live = session.scalar(select(func.min(Borough.went_live_on)))
    if first_live is None:
        return ReportPeriod(kind, title, months, None, None, None, today)
    first = dt.date(first_live.year, first_live.month, 1)
    return ReportPeriod(
        kind, title, months, first_live, first, add_months(first, months - 1), today
    )


METHOD = (
    "Each hub's node computes its figures for each calendar month from its own records and sends "
    "them to the coordinator, signed with the node's key over mutual TLS; the coordinator checks "
    "the signature and the borough before it stores them. No information about any child or "
    "adult leaves a hub: only counts and statistics.",
    f"Small numbers: every count from 1 to 4 is suppressed at the hub and shown as “{FEWER_THAN}”; "
    "a statistic (a mean or median) over 1 to 4 decisions is not sent. London-wide totals add "
    "the counts that were sent and say how many suppressed counts they leave out. No secondary "
    "suppression is applied: no figure in this report is a difference of others.",
    "Contacts are counted in the month they arrived; decisions, their turnaround and the "
    "interventions they asked partner agencies for, in the month they were made. A referral is a "
    "decision with an onward response (any outcome but no further action).",
    "Turnaround is the time from a contact's arrival to the hub's decision, in working days: "
    "the hub's working hours on working days that are not bank holidays, over the length of its "
    "working day. A decision is within its deadline when made by the deadline its RAG rating set. "
    "London-wide means are the hubs' means weighted by their decisions; a London-wide median is "
    "the decision-weighted average of the hubs' medians, an approximation.",
    "Before and after go-live: as in London's 2013 MASH evaluation, each hub's baseline is a "
    "snapshot audit of its contacts before go-live (contacts a month and turnaround by RAG "
    "rating), entered by the project team; it is set against the figures the hub's node sent "
    "from the month it went live. Pilot waves are compared with later ones over each hub's "
    "first twelve months after going live.",
    "A repeat contact names, as a subject, a child or adult named in a contact in the 12 months "
    "before. Equality monitoring counts the children and adults of concern named in the month's "
    "contacts, by age when contacted and gender as recorded; the hubs do not yet record "
    "ethnicity or disability. Cross-borough existence checks and disclosures are counted once the "
    "federation carries them; until then they are zero.",
)


def csv_text(session: Session, report: ReportPeriod) -> str:
    """The report's figures as CSV (UTF-8, header row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ("section", "borough", "month", "measure", "category", "value", "basis", "note")
    )
    if report.first is None or report.last is None:
        writer.writerow(("note", "", "", "No hub has gone live yet", "", "", "", ""))
        return out.getvalue()
    for row in _rows(session, report.first, report.last):
        writer.writerow(row)
    return out.getvalue()


def _rows(session: Session, first: dt.date, last: dt.date) -> Iterator[tuple[str, ...]]:
    names = {b.code: b.name for b in session.scalars(select(Borough))}
    london = analysis.load(session, first, last)
    for (family, category), months in sorted(london.counts.items()):
        for month in london.months:
            cell = months.get(month)
            if cell is None:
                continue
            note = f"leaves out {cell.suppressed} counts of {FEWER_THAN}" if cell.suppressed else ""
            yield (
                "london",
                "London",
                month_text(month),
                FAMILIES[family].title if family in FAMILIES else family,
                label(category),
                str(cell.value),
                "",
                note,
            )
    for code, month, family, category, value, suppressed in session.execute(
        select(
            EvaluationReport.borough_code,
            EvaluationReport.month,
            EvaluationCount.family,
            EvaluationCount.category,
            EvaluationCount.value,
            EvaluationCount.suppressed,
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationCount.report_id)
        .where(EvaluationReport.month >= first, EvaluationReport.month <= last)
        .order_by(EvaluationReport.borough_code, EvaluationReport.month, EvaluationCount.family)
    ):
        yield (
            "borough",
            names.get(code, code),
            month_text(month),
            FAMILIES[family].title if family in FAMILIES else family,
            label(category),
            "" if suppressed else str(value),
            "",
            FEWER_THAN if suppressed else "",
        )
    for code, month, family, category, value, basis, suppressed in session.execute(
        select(
            EvaluationReport.borough_code,
            EvaluationReport.month,
            EvaluationStatistic.family,
            EvaluationStatistic.category,
            EvaluationStatistic.value,
            EvaluationStatistic.basis,
            EvaluationStatistic.suppressed,
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationStatistic.report_id)
        .where(EvaluationReport.month >= first, EvaluationReport.month <= last)
        .order_by(EvaluationReport.borough_code, EvaluationReport.month, EvaluationStatistic.family)
    ):
        unit = FAMILIES[family].unit if family in FAMILIES else ""
        yield (
            "borough",
            names.get(code, code),
            month_text(month),
            f"{FAMILIES[family].title if family in FAMILIES else family} ({unit})",
            label(category),
            "" if suppressed or not basis else f"{value:.2f}",
            "" if suppressed else str(basis),
            f"over {FEWER_THAN} decisions: not sent" if suppressed else "",
        )
    comparison = analysis.compare(session, first, last)
    for b in comparison.before_after:
        for measure, before, after in (
            ("Contacts a month", b.baseline_contacts, b.after.contacts_a_month),
            ("Mean working days to decision", b.baseline_days, b.after.turnaround.value),
        ):
            yield (
                "before-after",
                b.name,
                "",
                measure,
                "baseline" if before is not None else "baseline (none entered)",
                "" if before is None else f"{before:.2f}",
                "",
                "",
            )
            yield (
                "before-after",
                b.name,
                "",
                measure,
                "since go-live",
                "" if after is None else f"{after:.2f}",
                "",
                "",
            )
    for group in (comparison.pilot, comparison.later, *comparison.by_wave):
        m = group.measures
        for measure, value in (
            ("Contacts a hub a month", m.contacts_a_month),
            ("Share decided within the deadline", m.within_share),
            ("Mean working days to decision", m.turnaround.value),
            ("Interventions per 100 contacts", m.interventions_per_100),
            ("Share of repeat contacts", m.repeat_share),
        ):
            yield (
                "waves",
                group.name,
                "",
                measure,
                f"first {comparison.months_after} months after go-live",
                "" if value is None else f"{value:.3f}",
                str(m.hub_months),
                "basis: hub-months",
            )
