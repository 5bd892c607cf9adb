"""The strategic assessment's figures for a period and area: contacts by concern category, source
and area month by month, repeat contacts, outcomes, and what partners' records show first (their
items by category, and a theme's items by postcode district), each table small-number suppressed.

Aggregates only: no name, reference or date finer than a month leaves this module, and every
count from 1 to 4 is hidden (`suppression`). A problem profile is the same figures for one concern
category. Each generation is audited with its period, area, theme and format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_assessment
from node.assessment.suppression import Grid, suppress
from node.errors import DomainError
from node.referrals.intake import CONCERN_CATEGORIES, SOURCE_KINDS
from node.referrals.outcome import OUTCOMES
from node.store.models import (
    Agency,
    Decision,
    InformationItem,
    PersonRecord,
    Referral,
    ReferralPerson,
)

PERIOD = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4]))?$")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
OTHER = "Other"
TOP_ROWS = 10
YEAR = dt.timedelta(days=365)  # a repeat contact names someone named within the year before


class AssessmentError(DomainError):
    """The period, area or theme asked for is not one the assessment can be made for."""


@dataclass(frozen=True)
class Period:
    label: str  # "2026" or "2026-Q4"
    start: dt.date
    end: dt.date  # exclusive

    @property
    def months(self) -> tuple[str, ...]:
        months, day = [], self.start
        while day < self.end:
            months.append(f"{day:%Y-%m}")
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return tuple(months)


def parse_period(text: str) -> Period:
    """A year ("2026") or a quarter ("2026-Q4")."""
    match = PERIOD.match(text.strip())
    if not match:
        raise AssessmentError("choose a year (2026) or a quarter (2026-Q4)", field="period")
    year = int(match["year"])
    if match["quarter"]:
        quarter = int(match["quarter"])
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    else:
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    return Period(text.strip(), start, end)


def current_quarter(today: dt.date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def district(postcode: str) -> str:
    """The postcode district (outward code): "E8" of "E8 1AB"; "" when it is not a postcode."""
    compact = re.sub(r"\s+", "", postcode.upper())
    outward = compact[:-3] if len(compact) >= 5 else ""
    return outward if DISTRICT.match(outward) else ""


@dataclass(frozen=True)
class Figures:
    """One table: rows by label, a count per month, each row's total and the months' totals."""

    key: str
    title: str
    row_heading: str
    labels: tuple[str, ...]
    months: tuple[str, ...]
    grid: Grid
    note: str = ""

    @property
    def head(self) -> tuple[str, ...]:
        return (self.row_heading, *self.months, "Total")

    def rows(self) -> list[tuple[str, ...]]:
        """Every row as text, the totals row last (suppressed counts marked)."""
        found = []
        for i, label in enumerate((*self.labels, "Total")):
            found.append((label, *(self.grid.text(i, j) for j in range(len(self.months) + 1))))
        return found

    def row_totals(self) -> list[tuple[str, int | None]]:
        """Each row's total (None: suppressed), for the chart."""
        return [(label, self.grid.cells[i][-1]) for i, label in enumerate(self.labels)]


@dataclass(frozen=True)
class Assessment:
    period: Period
    area: str  # a postcode district, or "" for the whole borough
    theme: str  # a concern category for a problem profile, or "" for the whole assessment
    generated_at: dt.datetime
    contacts: int | None  # all contacts in the period and area (None: suppressed)
    tables: tuple[Figures, ...]

    @property
    def theme_name(self) -> str:
        return CONCERN_CATEGORIES.get(self.theme, "")


@dataclass(frozen=True)
class _Contact:
    month: str
    categories: tuple[str, ...]
    source: str
    area: str
    subjects: tuple[int, ...]
    received: dt.datetime
    outcome: str | None


def assess(
    session: Session,
    actor: Actor,
    period: Period,
    area: str = "",
    theme: str = "",
    purpose: str = "page",
    now: dt.datetime | None = None,
) -> Assessment:
    """The assessment (or, with a theme, the problem profile) for a period and area (audited)."""
    require_assessment(actor)
    area = area.strip().upper()
    if area and not DISTRICT.match(area):
        raise AssessmentError(
            "give a postcode district such as E8, or leave it empty", field="area"
        )
    if theme and theme not in CONCERN_CATEGORIES:
        raise AssessmentError("choose one of the concern categories", field="theme")
    months = period.months
    agencies = {code: name for code, name in session.execute(select(Agency.code, Agency.name))}
    everyone, named = _contacts(session, period, agencies)
    contacts = [
        c for c in everyone if (not area or c.area == area) and (not theme or theme in c.categories)
    ]
    repeats = _repeats(contacts, named)
    tables = [
        _table(
            "categories",
            "Contacts by concern category",
            "Concern category",
            months,
            [(CONCERN_CATEGORIES.get(cat, cat), c.month) for c in contacts for cat in c.categories],
            note="A contact with several categories counts once under each.",
        ),
        _table(
            "sources",
            "Contacts by source",
            "Source",
            months,
            [(c.source, c.month) for c in contacts],
        ),
        _table(
            "areas",
            "Contacts by postcode district",
            "Postcode district",
            months,
            [(c.area or "Not known", c.month) for c in contacts],
        ),
        _table(
            "repeats",
            "First and repeat contacts",
            "Contact",
            months,
            [
                ("Repeat (within 12 months)" if r else "First in 12 months", c.month)
                for c, r in zip(contacts, repeats, strict=True)
            ],
            order=("First in 12 months", "Repeat (within 12 months)"),
        ),
        _table(
            "outcomes",
            "Decisions by outcome",
            "Outcome",
            months,
            [(OUTCOMES.get(c.outcome, c.outcome), c.month) for c in contacts if c.outcome],
            note="Outcomes of the period's contacts, by the month the contact came in.",
        ),
        _table(
            "partners",
            "Partners' records by category",
            "Category (as the agency records it)",
            months,
            _items(session, period, area, theme),
            note="What partners' records show, month by month, before it reaches the hub.",
        ),
    ]
    if theme:
        tables.append(
            _table(
                "theme-areas",
                f"Partners' records on {CONCERN_CATEGORIES[theme].lower()} by postcode district",
                "Postcode district",
                months,
                _items(session, period, area, theme, by_area=True),
            )
        )
    total = suppress([[len(contacts)]]).cells[0][0]
    audit.record(
        session,
        actor,
        "assessment.generate",
        object_ref=f"assessment:{period.label}",
        detail={"period": period.label, "area": area, "theme": theme, "format": purpose},
    )
    return Assessment(period, area, theme, now or dt.datetime.now(dt.UTC), total, tuple(tables))


def _contacts(
    session: Session, period: Period, agencies: dict[str, str]
) -> tuple[list[_Contact], dict[int, list[dt.datetime]]]:
    """The period's contacts, and when each person was named in a contact from a year before
    the period to its end."""
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(period.end, dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        select(
            Referral.id,
            Referral.received_at,
            Referral.categories,
            Referral.source_kind,
            Referral.source_agency,
            Decision.outcome,
        )
        .outerjoin(Decision, Decision.referral_id == Referral.id)
        .where(Referral.received_at >= start, Referral.received_at < end)
    ).all()
    # The people of the period's contacts, and when each was named in the year before it too
    # (for repeat contacts), in one reading.
    people: dict[int, list[tuple[int | None, str]]] = defaultdict(list)
    named: dict[int, list[dt.datetime]] = defaultdict(list)
    for referral_id, subject_id, postcode, received in session.execute(
        select(
            ReferralPerson.referral_id,
            ReferralPerson.subject_id,
            ReferralPerson.postcode,
            Referral.received_at,
        )
        .join(Referral, Referral.id == ReferralPerson.referral_id)
        .where(
            Referral.received_at >= start - YEAR,
            Referral.received_at < end,
            ReferralPerson.is_subject,
        )
        .order_by(ReferralPerson.id)
    ):
        if received >= start:
            people[referral_id].append((subject_id, postcode))
        if subject_id is not None:
            named[subject_id].append(received)
    found = []
    for rid, received, categories, kind, agency, outcome in rows:
        theirs = people.get(rid, [])
        source = (
            agencies.get(agency or "", "") if kind == "agency" else SOURCE_KINDS.get(kind, kind)
        )
        found.append(
            _Contact(
                f"{received:%Y-%m}",
                tuple(categories or ()),
                source.split(" (")[0],
                next((district(p) for _s, p in theirs if district(p)), ""),
                tuple(s for s, _p in theirs if s is not None),
                received,
                outcome.value if outcome else None,
            )
        )
    return found, named


def _repeats(contacts: Sequence[_Contact], named: dict[int, list[dt.datetime]]) -> list[bool]:
    """Whether each contact names a subject named in an earlier contact within 12 months."""
    return [
        any(
            c.received - YEAR <= other < c.received
            for subject in c.subjects
            for other in named.get(subject, ())
        )
        for c in contacts
    ]


THEME_WORDS = {
    "domestic-abuse": ("domestic",),
    "missing": ("missing",),
    "mental-health": ("mental", "self-harm", "camhs"),
    "substance-misuse": ("substance", "drug", "alcohol"),
    "child-criminal-exploitation": ("exploitation", "county lines", "knife", "stop and search"),
    "child-sexual-exploitation": ("exploitation", "sexual"),
    "neglect": ("neglect", "dental", "attendance"),
}


def _items(
    session: Session, period: Period, area: str, theme: str, *, by_area: bool = False
) -> list[tuple[str, str, int]]:
    """Partners' items in the period as (category or district, month, count); with a theme, only
    items whose category names it."""
    placed = by_area or bool(area)
    # By day, not month: the index on (occurred_on, category) then answers it in its own order,
    # with no function of each row; the days are added up into months here.
    columns = [InformationItem.occurred_on, InformationItem.category]
    if placed:
        columns.append(PersonRecord.postcode_norm)
    statement = select(*columns, func.count()).where(
        InformationItem.occurred_on >= period.start, InformationItem.occurred_on < period.end
    )
    if placed:
        statement = statement.join(PersonRecord, PersonRecord.id == InformationItem.record_id)
    statement = statement.group_by(*columns)
    words = THEME_WORDS.get(theme, (CONCERN_CATEGORIES.get(theme, "").split(" ")[0].lower(),))
    found: dict[tuple[str, str], int] = defaultdict(int)
    for row in session.execute(statement):
        day, category = row[0], row[1]
        if theme and not any(w and w in category.lower() for w in words):
            continue
        where = district(row[2] or "") if placed else ""
        if area and where != area:
            continue
        label = (where or "Not known") if by_area else category
        found[(label, f"{day:%Y-%m}")] += int(row[-1])
    return [(label, month, count) for (label, month), count in found.items()]


def _table(
    key: str,
    title: str,
    heading: str,
    months: Sequence[str],
    pairs: Sequence[tuple[str, str]] | Sequence[tuple[str, str, int]],  # (label, month[, count])
    *,
    order: Sequence[str] = (),
    note: str = "",
) -> Figures:
    """Counts of (label, month) pairs as a suppressed table: the largest rows first (at most
    TOP_ROWS, the rest as "Other"), or in `order`."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for label, month, *weight in pairs:
        counts[label][month] += weight[0] if weight else 1
    if order:
        labels = list(order)
    else:
        ranked = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))
        labels = ranked[:TOP_ROWS]
        if len(ranked) > TOP_ROWS:
            other: Counter[str] = Counter()
            for label in ranked[TOP_ROWS:]:
                other.update(counts[label])
            counts[OTHER] = other
            labels.append(OTHER)
    grid = suppress([[counts[label][m] for m in months] for label in labels], len(months))
    return Figures(key, title, heading, tuple(labels), tuple(months), grid, note)
