"""The evaluation's figures as the dashboards and reports use them: a range of months for some or
all boroughs, summed (London-wide) or one borough's, and the comparisons the evaluation makes
(before against after each hub went live, pilot waves against later ones).

Sums over boroughs add the counts that were sent; a suppressed count (1 to 4) adds nothing and
is counted as suppressed, so a sum reads "at least N, and M counts of fewer than 5". A statistic
over several reports is the mean of their values weighted by their basis (exact for means; for
medians, the decision-weighted average of the boroughs' medians, and said so where shown).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coordinator.evaluation.baselines import BaselineView
from coordinator.evaluation.baselines import view as baseline_view
from coordinator.store.models import (
    Baseline,
    Borough,
    EvaluationCount,
    EvaluationReport,
    EvaluationStatistic,
    Wave,
)
from mash_common.evaluation import RAGS, add_months, months_between


@dataclass(frozen=True)
class Cell:
    """A count, or a sum of counts: the value sent, and how many suppressed counts (each 1-4)
    it leaves out."""

    value: int = 0
    suppressed: int = 0

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.value + other.value, self.suppressed + other.suppressed)

    @property
    def known(self) -> bool:
        """Whether the value is exact (nothing suppressed in it)."""
        return self.suppressed == 0


@dataclass(frozen=True)
class Stat:
    """A statistic, or several combined: the basis-weighted value (None if there is none), the
    items it is over, and how many suppressed statistics it leaves out."""

    weighted_sum: float = 0.0
    basis: int = 0
    suppressed: int = 0

    @property
    def value(self) -> float | None:
        return self.weighted_sum / self.basis if self.basis else None

    def __add__(self, other: Stat) -> Stat:
        return Stat(
            self.weighted_sum + other.weighted_sum,
            self.basis + other.basis,
            self.suppressed + other.suppressed,
        )


Key = tuple[str, str]  # (family, category)


@dataclass(frozen=True)
class Figures:
    """The figures of some boroughs for a range of months."""

    months: tuple[dt.date, ...]
    boroughs: tuple[str, ...]  # the boroughs asked for (all of London: every one)
    counts: dict[Key, dict[dt.date, Cell]]
    stats: dict[Key, dict[dt.date, Stat]]
    reports: dict[dt.date, int]  # reports received for each month
    synthetic: bool  # some figures are demo data, not sent by a node

    def count(self, family: str, category: str, month: dt.date) -> Cell:
        return self.counts.get((family, category), {}).get(month, Cell())

    def series(self, family: str, category: str) -> list[Cell]:
        return [self.count(family, category, month) for month in self.months]

    def total(self, family: str, category: str, months: Iterable[dt.date] | None = None) -> Cell:
        cells = self.counts.get((family, category), {})
        chosen = self.months if months is None else tuple(months)
        return sum((cells.get(m, Cell()) for m in chosen), Cell())

    def family_total(self, family: str, months: Iterable[dt.date] | None = None) -> Cell:
        return sum((self.total(f, c, months) for f, c in self.counts if f == family), Cell())

    def categories(self, family: str) -> list[str]:
        """The family's categories, largest total first (ties by name)."""
        found = [c for f, c in self.counts if f == family]
        return sorted(found, key=lambda c: (-self.total(family, c).value, c))

    def stat(self, family: str, category: str, month: dt.date) -> Stat:
        return self.stats.get((family, category), {}).get(month, Stat())

    def stat_series(self, family: str, category: str) -> list[Stat]:
        return [self.stat(family, category, month) for month in self.months]

    def stat_over(
        self, family: str, category: str, months: Iterable[dt.date] | None = None
    ) -> Stat:
        cells = self.stats.get((family, category), {})
        chosen = self.months if months is None else tuple(months)
        return sum((cells.get(m, Stat()) for m in chosen), Stat())

    @property
    def report_count(self) -> int:
        return sum(self.reports.values())


def month_range(session: Session) -> tuple[dt.date, dt.date] | None:
    """The first and last month any report is about."""
    first, last = session.execute(
        select(func.min(EvaluationReport.month), func.max(EvaluationReport.month))
    ).one()
    return (first, last) if first is not None else None


def load(
    session: Session,
    first: dt.date,
    last: dt.date,
    boroughs: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
) -> Figures:
    """The figures of `boroughs` (None: all) from month `first` to `last`, summed."""
    months = tuple(months_between(first, last))
    where = [EvaluationReport.month >= first, EvaluationReport.month <= last]
    if boroughs is not None:
        where.append(EvaluationReport.borough_code.in_(list(boroughs)))
    count_where = list(where)
    if families is not None:
        count_where.append(EvaluationCount.family.in_(list(families)))
    counts: dict[Key, dict[dt.date, Cell]] = defaultdict(dict)
    for month, family, category, value, suppressed in session.execute(
        select(
            EvaluationReport.month,
            EvaluationCount.family,
            EvaluationCount.category,
            func.sum(EvaluationCount.value),
            func.sum(case((EvaluationCount.suppressed, 1), else_=0)),
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationCount.report_id)
        .where(*count_where)
        .group_by(EvaluationReport.month, EvaluationCount.family, EvaluationCount.category)
    ):
        counts[(family, category)][month] = Cell(int(value or 0), int(suppressed or 0))
    stats: dict[Key, dict[dt.date, Stat]] = defaultdict(dict)
    for month, family, category, weighted, basis, suppressed in session.execute(
        select(
            EvaluationReport.month,
            EvaluationStatistic.family,
            EvaluationStatistic.category,
            func.sum(EvaluationStatistic.value * EvaluationStatistic.basis),
            func.sum(EvaluationStatistic.basis),
            func.sum(case((EvaluationStatistic.suppressed, 1), else_=0)),
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationStatistic.report_id)
        .where(*where)
        .group_by(EvaluationReport.month, EvaluationStatistic.family, EvaluationStatistic.category)
    ):
        stats[(family, category)][month] = Stat(
            float(weighted or 0), int(basis or 0), int(suppressed or 0)
        )
    reports: dict[dt.date, int] = {}
    synthetic = False
    for month, number, fake in session.execute(
        select(
            EvaluationReport.month,
            func.count(),
            func.max(case((EvaluationReport.synthetic, 1), else_=0)),
        )
        .where(*where)
        .group_by(EvaluationReport.month)
    ):
        reports[month] = int(number)
        synthetic = synthetic or bool(fake)
    if boroughs is None:
        boroughs = tuple(session.scalars(select(Borough.code).order_by(Borough.code)))
    return Figures(months, tuple(boroughs), dict(counts), dict(stats), reports, synthetic)


# --- who reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    boroughs: int  # boroughs with at least one report
    latest: dt.date | None  # the latest month any report is about
    by_borough: dict[str, tuple[dt.date, dt.date, int, dt.datetime]]  # first, last, count, received


def reports_received(session: Session) -> Received:
    by_borough = {
        code: (first, last, int(number), received)
        for code, first, last, number, received in session.execute(
            select(
                EvaluationReport.borough_code,
                func.min(EvaluationReport.month),
                func.max(EvaluationReport.month),
                func.count(),
                func.max(EvaluationReport.received_at),
            ).group_by(EvaluationReport.borough_code)
        )
    }
    latest = max((v[1] for v in by_borough.values()), default=None)
    return Received(len(by_borough), latest, by_borough)


# --- the comparisons --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measures:
    """What the evaluation compares, over some borough-months."""

    hub_months: int = 0  # borough-months with a report
    contacts: Cell = Cell()
    referrals: Cell = Cell()
    decided: Cell = Cell()
    within: Cell = Cell()
    interventions: Cell = Cell()
    repeats: Cell = Cell()
    turnaround: Stat = Stat()  # mean working days, all RAG levels

    def __add__(self, other: Measures) -> Measures:
        return Measures(
            self.hub_months + other.hub_months,
            self.contacts + other.contacts,
            self.referrals + other.referrals,
            self.decided + other.decided,
            self.within + other.within,
            self.interventions + other.interventions,
            self.repeats + other.repeats,
            self.turnaround + other.turnaround,
        )

    @property
    def contacts_a_month(self) -> float | None:
        return self.contacts.value / self.hub_months if self.hub_months else None

    @property
    def within_share(self) -> float | None:
        return self.within.value / self.decided.value if self.decided.value else None

    @property
    def interventions_per_100(self) -> float | None:
        return 100 * self.interventions.value / self.contacts.value if self.contacts.value else None

    @property
    def repeat_share(self) -> float | None:
        return self.repeats.value / self.contacts.value if self.contacts.value else None

    @property
    def referral_share(self) -> float | None:
        return self.referrals.value / self.contacts.value if self.contacts.value else None


_COMPARED_COUNTS = (
    "contacts.total",
    "referrals.total",
    "decisions.rag",
    "decisions.within_deadline",
    "interventions.agency",
    "contacts.re_referral",
)


def borough_months(
    session: Session, first: dt.date, last: dt.date
) -> dict[tuple[str, dt.date], Measures]:
    """The compared measures of each borough-month with a report."""
    found: dict[tuple[str, dt.date], dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    months: set[tuple[str, dt.date]] = set()
    for code, month, family, value, suppressed in session.execute(
        select(
            EvaluationReport.borough_code,
            EvaluationReport.month,
            EvaluationCount.family,
            func.sum(EvaluationCount.value),
            func.sum(case((EvaluationCount.suppressed, 1), else_=0)),
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationCount.report_id)
        .where(
            EvaluationReport.month >= first,
            EvaluationReport.month <= last,
            EvaluationCount.family.in_(_COMPARED_COUNTS),
        )
        .group_by(EvaluationReport.borough_code, EvaluationReport.month, EvaluationCount.family)
    ):
        found[(code, month)][family] = Cell(int(value or 0), int(suppressed or 0))
        months.add((code, month))
    turnaround: dict[tuple[str, dt.date], Stat] = defaultdict(Stat)
    for code, month, weighted, basis, suppressed in session.execute(
        select(
            EvaluationReport.borough_code,
            EvaluationReport.month,
            func.sum(EvaluationStatistic.value * EvaluationStatistic.basis),
            func.sum(EvaluationStatistic.basis),
            func.sum(case((EvaluationStatistic.suppressed, 1), else_=0)),
        )
        .join(EvaluationReport, EvaluationReport.id == EvaluationStatistic.report_id)
        .where(
            EvaluationReport.month >= first,
            EvaluationReport.month <= last,
            EvaluationStatistic.family == "turnaround.mean_working_days",
        )
        .group_by(EvaluationReport.borough_code, EvaluationReport.month)
    ):
        turnaround[(code, month)] = Stat(
            float(weighted or 0), int(basis or 0), int(suppressed or 0)
        )
    return {
        key: Measures(
            hub_months=1,
            contacts=cells["contacts.total"],
            referrals=cells["referrals.total"],
            decided=cells["decisions.rag"],
            within=cells["decisions.within_deadline"],
            interventions=cells["interventions.agency"],
            repeats=cells["contacts.re_referral"],
            turnaround=turnaround[key],
        )
        for key, cells in found.items()
    }


@dataclass(frozen=True)
class BeforeAfter:
    code: str
    name: str
    went_live: dt.date
    wave: str | None
    baseline: BaselineView | None
    before: Measures  # node months before the go-live month
    after: Measures  # node months from the go-live month on

    @property
    def baseline_contacts(self) -> float | None:
        return self.baseline.contacts if self.baseline else None

    @property
    def baseline_days(self) -> float | None:
        return self.baseline.mean_days_weighted() if self.baseline else None

    @property
    def days_change(self) -> float | None:
        """After minus baseline, in working days (negative: faster than before)."""
        if self.baseline_days is None or self.after.turnaround.value is None:
            return None
        return self.after.turnaround.value - self.baseline_days


@dataclass(frozen=True)
class WaveGroup:
    name: str
    boroughs: tuple[str, ...]
    measures: Measures
    by_month_since: tuple[Measures, ...] = field(default=())  # month 1, 2, ... after go-live


@dataclass(frozen=True)
class Comparison:
    first: dt.date
    last: dt.date
    before_after: tuple[BeforeAfter, ...]
    pilot: WaveGroup
    later: WaveGroup
    by_wave: tuple[WaveGroup, ...]
    months_after: int

    @property
    def with_baseline(self) -> tuple[BeforeAfter, ...]:
        return tuple(b for b in self.before_after if b.baseline is not None)


def compare(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    months_after: int = 12,
    boroughs: Sequence[str] | None = None,
) -> Comparison:
    """Before against after go-live for every live borough (or those named), and the pilot waves
    against the later ones over each hub's first `months_after` months after going live."""
    cells = borough_months(session, first, last)
    waves = {w.id: w for w in session.scalars(select(Wave))}
    baselines = {b.borough_code: baseline_view(b) for b in session.scalars(select(Baseline))}
    live = [
        b
        for b in session.scalars(select(Borough).order_by(Borough.name))
        if b.went_live_on is not None and (boroughs is None or b.code in boroughs)
    ]
    before_after = []
    groups: dict[str, list[tuple[str, list[Measures]]]] = defaultdict(list)
    for borough in live:
        assert borough.went_live_on is not None
        start = dt.date(borough.went_live_on.year, borough.went_live_on.month, 1)
        months = [(m, cells[(borough.code, m)]) for c, m in cells if c == borough.code]
        before = sum((v for m, v in months if m < start), Measures())
        after = sum((v for m, v in months if m >= start), Measures())
        wave = waves.get(borough.wave_id) if borough.wave_id is not None else None
        before_after.append(
            BeforeAfter(
                borough.code,
                borough.name,
                borough.went_live_on,
                wave.name if wave else None,
                baselines.get(borough.code),
                before,
                after,
            )
        )
        since = [
            cells.get((borough.code, add_months(start, i)), Measures()) for i in range(months_after)
        ]
        if wave is not None:
            groups["pilot" if wave.is_pilot else "later"].append((borough.code, since))
            groups[f"wave:{wave.number}:{wave.name}"].append((borough.code, since))
        else:
            groups["later"].append((borough.code, since))

    def group(name: str, members: list[tuple[str, list[Measures]]]) -> WaveGroup:
        by_month = tuple(
            sum((series[i] for _code, series in members), Measures()) for i in range(months_after)
        )
        return WaveGroup(
            name, tuple(code for code, _ in members), sum(by_month, Measures()), by_month
        )

    by_wave = tuple(
        group(key.split(":", 2)[2], members)
        for key, members in sorted(
            groups.items(),
            key=lambda kv: int(kv[0].split(":")[1]) if kv[0].startswith("wave:") else 0,
        )
        if key.startswith("wave:")
    )
    return Comparison(
        first,
        last,
        tuple(before_after),
        group("Pilot waves", groups.get("pilot", [])),
        group("Later waves", groups.get("later", [])),
        by_wave,
        months_after,
    )


def london_baseline_days(
    session: Session, boroughs: Sequence[str] | None = None
) -> dict[str, float]:
    """Per RAG level, the baselines' mean turnaround weighted by their contacts a month."""
    totals: dict[str, list[float]] = {rag: [0.0, 0.0] for rag in RAGS}
    for row in session.scalars(select(Baseline)):
        if boroughs is not None and row.borough_code not in boroughs:
            continue
        for rag in RAGS:
            contacts = getattr(row, f"{rag}_contacts") or 0
            totals[rag][0] += contacts * (getattr(row, f"{rag}_mean_days") or 0)
            totals[rag][1] += contacts
    return {rag: s / n for rag, (s, n) in totals.items() if n}
