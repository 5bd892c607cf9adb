"""The hub's evaluation figures for one calendar month (DESIGN.md section 9), computed from its
store, with every count of 1 to 4 suppressed: what `mash-node report` shows and what the node
sends the coordinator. The families and the rules are mash_common/evaluation.py's.

A month is a calendar month in the hub's time zone ([referrals] timezone). Contacts are those
received in the month; decisions, their turnaround and the interventions they ask for are those
made in the month. Turnaround in working days is the hub's working time from contact to decision
(node/referrals/deadlines.py) over the length of its working day; in hours, the elapsed time.
A repeat contact names, as a subject, someone named in a contact received in the 12 months
before. Equality monitoring counts the subjects named in the month's contacts (age when
contacted, gender as recorded); the node records no ethnicity or disability, so those are "not
recorded". Cross-borough work: each borough asked about each subject in the month's checks
(answered: it said holds or holds nothing; holds: it held something), the disclosure requests
this hub made in the month and those it received (approved, declined or expired: how the
received ones ended), and the median hours from receiving a request to answering it.
Nothing here names or describes a person: only counts and statistics leave this module.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.evaluation import (
    AGE_BANDS,
    FAMILIES,
    RAGS,
    SUPPRESS_BELOW,
    CountFigure,
    MonthlyFigures,
    StatisticFigure,
    add_months,
    month_text,
    suppress,
)
from node.config import ReferralPolicy
from node.federation.asking import HOLDS, NOTHING
from node.referrals.deadlines import working_day_length, working_time_between
from node.store.models import (
    BoroughCheck,
    Decision,
    IncomingDisclosure,
    IncomingState,
    Intervention,
    Outcome,
    OutgoingDisclosure,
    Referral,
    ReferralPerson,
    Subject,
    utcnow,
)

REPEAT_WINDOW = dt.timedelta(days=365)


def month_bounds(month: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments a calendar month of the hub's time zone starts and ends."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(month, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(add_months(month, 1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def monthly_figures(
    session: Session,
    month: dt.date,
    policy: ReferralPolicy,
    *,
    software_version: str = "",
    now: dt.datetime | None = None,
) -> MonthlyFigures:
    """The month's figures, small counts suppressed (the month's first day in `month`)."""
    start, end = month_bounds(month, policy.timezone)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    _contacts(session, start, end, counts)
    stats = _decisions(session, start, end, policy, counts)
    stats.append(_cross_borough(session, start, end, counts))
    return MonthlyFigures(
        month=month_text(month),
        counts=_suppressed_counts(counts),
        statistics=tuple(stats),
        generated_at_ms=int((now or utcnow()).timestamp() * 1000),
        software_version=software_version,
    )


def _contacts(
    session: Session, start: dt.datetime, end: dt.datetime, counts: dict[str, Counter[str]]
) -> None:
    contacts = session.execute(
        select(
            Referral.id,
            Referral.received_at,
            Referral.source_kind,
            Referral.source_agency,
            Referral.categories,
            Referral.pathway,
            Referral.rag,
        ).where(Referral.received_at >= start, Referral.received_at < end)
    ).all()
    ids = [row.id for row in contacts]
    people: dict[int, list[ReferralPerson]] = defaultdict(list)
    for person in session.scalars(
        select(ReferralPerson).where(
            ReferralPerson.referral_id.in_(ids), ReferralPerson.is_subject.is_(True)
        )
    ):
        people[person.referral_id].append(person)
    resolve = _merges(session)
    earlier = _subjects_named_since(session, start - REPEAT_WINDOW, end, resolve)
    for row in contacts:
        counts["contacts.total"]["all"] += 1
        source = row.source_agency if row.source_kind == "agency" and row.source_agency else None
        counts["contacts.source"][
            source or ("public" if row.source_kind == "public" else "other")
        ] += 1
        for category in set(row.categories or []):
            counts["contacts.concern"][category] += 1
        counts["contacts.pathway"][row.pathway.value] += 1
        counts["contacts.rag"][row.rag.value if row.rag else "not-rated"] += 1
        subjects = {resolve(p.subject_id) for p in people[row.id] if p.subject_id is not None}
        window_start = row.received_at - REPEAT_WINDOW
        if any(
            any(window_start <= at < row.received_at for at in earlier.get(subject, ()))
            for subject in subjects
        ):
            counts["contacts.re_referral"]["within-12-months"] += 1
        for person in people[row.id]:
            counts["equality.age_band"][
                _age_band(person.date_of_birth, row.received_at.date())
            ] += 1
            counts["equality.gender"][_gender(person.gender)] += 1
            counts["equality.ethnicity"]["not-recorded"] += 1
            counts["equality.disability"]["not-recorded"] += 1


def _merges(session: Session) -> Callable[[int], int]:
    merged = {
        subject: into
        for subject, into in session.execute(
            select(Subject.id, Subject.merged_into_id).where(Subject.merged_into_id.is_not(None))
        )
    }

    def resolve(subject_id: int) -> int:
        seen = 0
        while subject_id in merged and seen < 100:
            subject_id = merged[subject_id]
            seen += 1
        return subject_id

    return resolve


def _subjects_named_since(
    session: Session, since: dt.datetime, until: dt.datetime, resolve: Callable[[int], int]
) -> dict[int, list[dt.datetime]]:
    """When each subject was named as a subject of a contact received in [since, until)."""
    named: dict[int, list[dt.datetime]] = defaultdict(list)
    for subject_id, received in session.execute(
        select(ReferralPerson.subject_id, Referral.received_at)
        .join(Referral, Referral.id == ReferralPerson.referral_id)
        .where(
            Referral.received_at >= since,
            Referral.received_at < until,
            ReferralPerson.is_subject.is_(True),
            ReferralPerson.subject_id.is_not(None),
        )
    ):
        named[resolve(subject_id)].append(received)
    return named


def _decisions(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    policy: ReferralPolicy,
    counts: dict[str, Counter[str]],
) -> list[StatisticFigure]:
    rows = session.execute(
        select(
            Decision.referral_id,
            Decision.outcome,
            Decision.decided_at,
            Decision.breached,
            Referral.received_at,
            Referral.rag,
        )
        .join(Referral, Referral.id == Decision.referral_id)
        .where(Decision.decided_at >= start, Decision.decided_at < end)
    ).all()
    day = working_day_length(policy).total_seconds()
    working_days: dict[str, list[float]] = defaultdict(list)
    hours: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        counts["decisions.outcome"][row.outcome.value] += 1
        if row.outcome is not Outcome.NO_FURTHER_ACTION:
            counts["referrals.total"]["all"] += 1
        if row.rag is None:
            continue
        rag = row.rag.value
        counts["decisions.rag"][rag] += 1
        counts["decisions.breached" if row.breached else "decisions.within_deadline"][rag] += 1
        worked = working_time_between(row.received_at, row.decided_at, policy).total_seconds()
        working_days[rag].append(worked / day)
        hours[rag].append(max(0.0, (row.decided_at - row.received_at).total_seconds() / 3600))
    for agency in session.scalars(
        select(Intervention.agency_code).where(
            Intervention.referral_id.in_([row.referral_id for row in rows])
        )
    ):
        counts["interventions.agency"][agency] += 1
    found = []
    for rag in RAGS:
        found += [
            _statistic("turnaround.mean_working_days", rag, working_days[rag], statistics.fmean),
            _statistic("turnaround.median_working_days", rag, working_days[rag], statistics.median),
            _statistic("turnaround.median_hours", rag, hours[rag], statistics.median),
        ]
    return found


def _cross_borough(
    session: Session, start: dt.datetime, end: dt.datetime, counts: dict[str, Counter[str]]
) -> StatisticFigure:
    """Checks asked of other boroughs, and disclosure requests made and received."""
    for outcome in session.scalars(
        select(BoroughCheck.outcome).where(
            BoroughCheck.checked_at >= start, BoroughCheck.checked_at < end
        )
    ):
        counts["checks.existence"]["asked"] += 1
        if outcome in (HOLDS, NOTHING):
            counts["checks.existence"]["answered"] += 1
        if outcome == HOLDS:
            counts["checks.existence"]["holds"] += 1
    made = session.scalars(
        select(OutgoingDisclosure.id).where(
            OutgoingDisclosure.created_at >= start, OutgoingDisclosure.created_at < end
        )
    ).all()
    counts["disclosures.requests"]["made"] += len(made)
    ended = {
        IncomingState.ANSWERED: "approved",
        IncomingState.DECLINED: "declined",
        IncomingState.EXPIRED: "expired",
    }
    hours = []
    for state, received_at, answered_at in session.execute(
        select(
            IncomingDisclosure.state,
            IncomingDisclosure.received_at,
            IncomingDisclosure.answered_at,
        ).where(IncomingDisclosure.received_at >= start, IncomingDisclosure.received_at < end)
    ):
        counts["disclosures.requests"]["received"] += 1
        if state in ended:
            counts["disclosures.requests"][ended[state]] += 1
        if answered_at is not None:
            hours.append(max(0.0, (answered_at - received_at).total_seconds() / 3600))
    return _statistic("disclosures.median_hours", "all", hours, statistics.median)


def _statistic(
    family: str, category: str, values: list[float], how: Callable[[list[float]], float]
) -> StatisticFigure:
    if 0 < len(values) < SUPPRESS_BELOW:
        return StatisticFigure(family, category, 0.0, 0, suppressed=True)
    if not values:
        return StatisticFigure(family, category, 0.0, 0)
    return StatisticFigure(family, category, round(float(how(values)), 2), len(values))


def _suppressed_counts(counts: dict[str, Counter[str]]) -> tuple[CountFigure, ...]:
    """Every category of every count family (0 where nothing happened), each suppressed if 1-4."""
    figures = []
    for name, family in FAMILIES.items():
        if family.statistic:
            continue
        observed = counts.get(name, Counter())
        for category in [*family.categories, *sorted(set(observed) - set(family.categories))]:
            value, suppressed = suppress(observed.get(category, 0))
            figures.append(CountFigure(name, category, value, suppressed))
    return tuple(figures)


def _age_band(born: dt.date | None, on: dt.date) -> str:
    if born is None or born > on:
        return "unknown"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for band in AGE_BANDS[:-2]:
        low, high = (int(part) for part in band.split("-"))
        if low <= age <= high:
            return band
    return "65-plus" if age >= 65 else "unknown"


_FEMALE = {"f", "female", "girl", "woman"}
_MALE = {"m", "male", "boy", "man"}


def _gender(recorded: str) -> str:
    text = recorded.strip().lower()
    if not text:
        return "not-recorded"
    if text in _FEMALE:
        return "female"
    if text in _MALE:
        return "male"
    return "other"
