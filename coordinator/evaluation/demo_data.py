"""Synthetic data for a demo or a benchmark: the seeded plan set as if the pilot had begun
`months` months ago (waves, stages, milestones, framework assessments, partners, agreements,
funding, baselines, all through the plan's own services, so the history shows them), and a
month's figures for every authority for each of those months, marked synthetic.

Figures before a borough's go-live stand for its front door before the MASH (its node already
running); after it, contacts rise a little as more is identified, and decisions come faster and
more often within their deadlines, ramping up over the first six months. Every count keeps the
small-number rule, and every report goes through the same checks as a node's.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.access import Actor
from coordinator.evaluation import baselines
from coordinator.evaluation.ingest import store_report
from coordinator.rollout import plan
from coordinator.store.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Arrangement,
    Borough,
    BoroughPartner,
    ConsultationStatus,
    FrameworkAssessment,
    Funding,
    FundingKind,
    Milestone,
    Role,
    Stage,
    Wave,
    utcnow,
)
from mash_common.evaluation import (
    AGE_BANDS,
    FAMILIES,
    RAGS,
    CountFigure,
    MonthlyFigures,
    StatisticFigure,
    add_months,
    month_text,
    suppress,
)

ACTOR = Actor("system:demo-data", Role.EDITOR)
PILOT_1 = ("hackney", "lambeth")
PILOT_2 = ("brent", "southwark", "tower-hamlets", "lewisham")
SOURCES = {
    "police": 0.44, "education": 0.17, "health": 0.12, "childrens-social-care": 0.05,
    "public": 0.06, "other": 0.04, "housing": 0.03, "mental-health": 0.03, "yot": 0.02,
    "probation": 0.01, "adult-social-care": 0.03,
}  # fmt: skip
CONCERNS = {
    "domestic-abuse": 0.30, "neglect": 0.22, "emotional-abuse": 0.10, "physical-abuse": 0.09,
    "mental-health": 0.08, "missing": 0.05, "child-criminal-exploitation": 0.04,
    "sexual-abuse": 0.03, "substance-misuse": 0.03, "child-sexual-exploitation": 0.02,
    "self-neglect": 0.015, "financial-abuse": 0.01, "radicalisation": 0.004,
    "honour-based-abuse": 0.003, "female-genital-mutilation": 0.002, "modern-slavery": 0.002,
}  # fmt: skip
OUTCOMES = {
    "strategy-discussion": 0.06, "assessment": 0.22, "early-help": 0.25,
    "referral-to-agency": 0.15, "marac": 0.02, "no-further-action": 0.30,
}  # fmt: skip
INTERVENTIONS = {
    "childrens-social-care": 0.30, "health": 0.18, "education": 0.16, "police": 0.12,
    "housing": 0.07, "mental-health": 0.07, "yot": 0.04, "adult-social-care": 0.04,
    "probation": 0.02,
}  # fmt: skip
AGES = dict(zip(AGE_BANDS, (0.18, 0.2, 0.3, 0.12, 0.04, 0.1, 0.05, 0.01), strict=True))
RAG_SHARE = {"red": 0.08, "amber": 0.32, "green": 0.55, "not-rated": 0.05}
DAYS_BEFORE = {"red": 1.3, "amber": 3.4, "green": 6.2}
DAYS_AFTER = {"red": 0.45, "amber": 1.4, "green": 2.6}
WITHIN_BEFORE = {"red": 0.62, "amber": 0.66, "green": 0.7}
WITHIN_AFTER = {"red": 0.93, "amber": 0.9, "green": 0.88}


@dataclass(frozen=True)
class DemoData:
    reports: int
    boroughs: int
    first: str
    last: str
    first_live: str


def write_demo_data(
    session: Session,
    *,
    months: int = 24,
    until: dt.date | None = None,
    skip: Sequence[str] = (),
    seed: int = 7,
) -> DemoData:
    if not 1 <= months <= 120:
        raise ValueError("months: 1 to 120")
    now = utcnow()
    last = until or add_months(dt.date(now.year, now.month, 1), -1)
    first = add_months(last, -(months - 1))
    rng = random.Random(seed)
    live = _set_plan(session, first, last, rng)
    written = 0
    boroughs = list(session.scalars(select(Borough).order_by(Borough.code)))
    for borough in boroughs:
        if borough.code in skip:
            continue
        size = 0.5 + rng.random() * 1.2
        went_live = live.get(borough.code)
        for index in range(months):
            month = add_months(first, index)
            figures = _month(rng, month, size, went_live, now)
            store_report(
                session,
                borough.code,
                figures,
                envelope=b"",
                key_id="synthetic",
                now=now,
                synthetic=True,
            )
            written += 1
    return DemoData(
        written,
        sum(1 for b in boroughs if b.code not in skip),
        month_text(first),
        month_text(last),
        month_text(min(live.values())) if live else "none",
    )


# --- the plan --------------------------------------------------------------------------------------


def _set_plan(
    session: Session, first: dt.date, last: dt.date, rng: random.Random
) -> dict[str, dt.date]:
    """Assign the waves, stages and dates as if the pilot began with `first`; returns each live
    borough's go-live day."""
    waves = {w.number: w for w in session.scalars(select(Wave))}
    boroughs = {b.code: b for b in session.scalars(select(Borough))}
    considering = sorted(b.code for b in boroughs.values() if b.considering)
    wave3 = [c for c in considering if c not in PILOT_1 + PILOT_2]
    rest = sorted(c for c in boroughs if c not in considering)
    go_live: dict[str, dt.date] = {}
    for i, code in enumerate(PILOT_1):
        go_live[code] = add_months(first, 2).replace(day=10 + 7 * i)
    for i, code in enumerate(PILOT_2):
        go_live[code] = add_months(first, 4).replace(day=6 + 5 * i)
    for i, code in enumerate(wave3):
        go_live[code] = add_months(first, 9 + i // 3).replace(day=3 + 3 * (i % 3))
    for i, code in enumerate(rest):  # one a month from the second year: some not live yet
        go_live[code] = add_months(first, 14 + i).replace(day=5 + 9 * (i % 2))
    today = utcnow().date()
    plan_waves = {
        1: (PILOT_1, add_months(first, -1), add_months(first, 2).replace(day=28)),
        2: (PILOT_2, add_months(first, 1), add_months(first, 4).replace(day=28)),
        3: (tuple(wave3), add_months(first, 6), add_months(first, 12).replace(day=28)),
        4: (tuple(rest), add_months(first, 11), add_months(first, 34).replace(day=28)),
    }
    live: dict[str, dt.date] = {}
    for number, (codes, start, target) in plan_waves.items():
        wave = waves[number]
        all_live = all(go_live[c] <= today for c in codes)
        plan.update_wave(
            session,
            ACTOR,
            wave.id,
            wave.version,
            plan.WaveFields(
                name=wave.name,
                description=wave.description,
                planned_hubs=len(codes),
                target_start=start,
                target_date=target,
                actual_date=max(go_live[c] for c in codes) if all_live else None,
            ),
        )
        for code in codes:
            borough = boroughs[code]
            day = go_live[code]
            months_live = (today.year - day.year) * 12 + today.month - day.month
            if day <= today:
                stage = Stage.INTERIM_REVIEW if months_live >= 12 else Stage.HUB_LIVE
                live[code] = day
            else:
                ahead = (day.year - today.year) * 12 + day.month - today.month
                stage = (
                    Stage.INFRASTRUCTURE_READY
                    if ahead <= 2
                    else Stage.AGREEMENTS_SIGNED
                    if ahead <= 5
                    else Stage.FRAMEWORK_ASSESSED
                    if ahead <= 9
                    else Stage.GOOD_PRACTICE_VISITED
                )
            plan.update_borough(
                session,
                ACTOR,
                code,
                borough.version,
                plan.BoroughPlan(
                    stage=stage,
                    wave_id=wave.id,
                    target_go_live=day,
                    went_live_on=day if day <= today else None,
                    notes=borough.notes,
                ),
            )
            _borough_detail(session, code, day, today, rng)
    return live


MILESTONES = (
    ("Good practice visit to a live MASH", -10),
    ("Progression framework assessment", -8),
    ("Information Sharing Agreement signed", -5),
    ("Partnership Agreement signed", -4),
    ("Equality Impact Assessment consultation closed", -3),
    ("Secure room and systems ready", -1),
    ("Hub goes live", 0),
    ("Interim review", 12),
)


def _borough_detail(
    session: Session, code: str, go_live: dt.date, today: dt.date, rng: random.Random
) -> None:
    if session.scalar(select(Milestone.id).where(Milestone.borough_code == code).limit(1)):
        return  # run before: keep what is there
    for title, offset in MILESTONES:
        due = add_months(go_live.replace(day=1), offset).replace(day=min(go_live.day, 28))
        done = None
        if due <= today:
            slip = rng.choice((-6, -3, 0, 2, 5, 12, 25))
            done = min(due + dt.timedelta(days=slip), today)
            if offset < 0 and rng.random() < 0.08 and go_live > today:
                done = None  # running late
        plan.add_milestone(
            session,
            ACTOR,
            code,
            plan.MilestoneFields(title, due, done if offset <= 0 or done else None),
        )
    level = 1
    for months_before in (14, 8, 2, -6):
        day = add_months(go_live.replace(day=1), -months_before)
        if day > today:
            break
        level = min(5, level + rng.choice((0, 1, 1, 2)))
        session.add(
            FrameworkAssessment(
                borough_code=code, assessed_on=day, level=level, recorded_by=ACTOR.username
            )
        )
    for partner in session.scalars(
        select(BoroughPartner).where(BoroughPartner.borough_code == code)
    ):
        if go_live > today + dt.timedelta(days=120):
            continue
        core = partner.agency_code in ("police", "childrens-social-care", "health")
        arrangement = Arrangement.CO_LOCATED if core or rng.random() < 0.4 else Arrangement.VIRTUAL
        if partner.agency_code == "ambulance-service" and rng.random() < 0.5:
            arrangement = Arrangement.NOT_INVOLVED
        plan.update_partner(
            session,
            ACTOR,
            code,
            partner.agency_code,
            partner.version,
            arrangement,
            min(go_live, today) if arrangement is not Arrangement.NOT_INVOLVED else None,
        )
    signed = {
        AgreementKind.ISA: add_months(go_live, -5),
        AgreementKind.PARTNERSHIP: add_months(go_live, -4),
        AgreementKind.EIA: add_months(go_live, -3),
    }
    for agreement in session.scalars(select(Agreement).where(Agreement.borough_code == code)):
        day = signed[agreement.kind]
        started = add_months(day, -3)
        if started > today:
            continue
        done = day <= today
        eia = agreement.kind is AgreementKind.EIA
        opened = add_months(day, -2)
        consulting = eia and opened <= today
        plan.update_agreement(
            session,
            ACTOR,
            code,
            agreement.kind,
            agreement.version,
            plan.AgreementFields(
                status=AgreementStatus.SIGNED
                if done
                else AgreementStatus.IN_CONSULTATION
                if consulting
                else AgreementStatus.DRAFTING,
                started_on=started,
                signed_on=day if done else None,
                review_on=add_months(day, 12) if done else None,
                consultation=(
                    ConsultationStatus.CLOSED
                    if done
                    else ConsultationStatus.OPEN
                    if consulting
                    else ConsultationStatus.NOT_STARTED
                )
                if eia
                else None,
                consultation_opened_on=opened if consulting else None,
                consultation_closed_on=add_months(day, -1) if eia and done else None,
            ),
        )
    if go_live <= today + dt.timedelta(days=180) and not session.scalar(
        select(Funding.id).where(Funding.borough_code == code).limit(1)
    ):
        plan.add_funding(
            session,
            ACTOR,
            code,
            plan.FundingFields(
                FundingKind.POLICE, "Metropolitan Police Service", 5000 * rng.randint(10, 20)
            ),
        )
        for funder, low, high in (
            ("Children's services", 24, 50),
            ("Health (integrated care board)", 8, 18),
            ("Adult social care", 4, 10),
        ):
            plan.add_funding(
                session,
                ACTOR,
                code,
                plan.FundingFields(FundingKind.PARTNER, funder, 5000 * rng.randint(low, high)),
            )
    if go_live <= today:
        size = 0.7 + rng.random()
        baselines.set_baseline(
            session,
            ACTOR,
            code,
            None,
            baselines.BaselineFields(
                period_from=add_months(go_live.replace(day=1), -4),
                period_to=add_months(go_live.replace(day=1), -3) - dt.timedelta(days=1),
                sample_size=int(200 * size),
                red=_baseline_rag(rng, size, "red"),
                amber=_baseline_rag(rng, size, "amber"),
                green=_baseline_rag(rng, size, "green"),
                notes="Synthetic snapshot audit (demo data)",
            ),
            today=today,
        )


def _baseline_rag(rng: random.Random, size: float, rag: str) -> baselines.RagBaseline:
    contacts = 600 * size * RAG_SHARE[rag] * rng.uniform(0.9, 1.1)
    mean = DAYS_BEFORE[rag] * rng.uniform(0.85, 1.2)
    return baselines.RagBaseline(round(contacts, 1), round(mean, 2), round(mean * 0.8, 2))


# --- a month's figures -------------------------------------------------------------------------


def _split(rng: random.Random, total: int, shares: dict[str, float]) -> dict[str, int]:
    weights = {k: v * rng.uniform(0.8, 1.2) for k, v in shares.items()}
    scale = sum(weights.values())
    return {k: round(total * w / scale) for k, w in weights.items()}


def _month(
    rng: random.Random, month: dt.date, size: float, went_live: dt.date | None, now: dt.datetime
) -> MonthlyFigures:
    live_month = dt.date(went_live.year, went_live.month, 1) if went_live else None
    since = (
        (month.year - live_month.year) * 12 + month.month - live_month.month
        if live_month is not None
        else -1
    )
    progress = 0.0 if since < 0 else min(1.0, (since + 1) / 6)
    season = 1 + 0.12 * math.sin((month.month - 3) / 12 * 2 * math.pi)
    contacts = int(600 * size * season * (1 + 0.1 * progress) * rng.uniform(0.92, 1.08))
    counts: dict[str, dict[str, int]] = {
        name: {} for name in FAMILIES if not FAMILIES[name].statistic
    }
    counts["contacts.total"]["all"] = contacts
    counts["contacts.source"] = _split(rng, contacts, SOURCES)
    counts["contacts.concern"] = _split(rng, int(contacts * 1.3), CONCERNS)
    child = int(contacts * rng.uniform(0.82, 0.88))
    counts["contacts.pathway"] = {"child": child, "adult": contacts - child}
    counts["contacts.rag"] = _split(rng, contacts, RAG_SHARE)
    counts["contacts.re_referral"] = {
        "within-12-months": int(contacts * rng.uniform(0.17, 0.24) * (1 - 0.15 * progress))
    }
    decided = int(contacts * rng.uniform(0.94, 0.99))
    outcomes = _split(rng, decided, OUTCOMES)
    counts["decisions.outcome"] = outcomes
    counts["referrals.total"] = {"all": decided - outcomes["no-further-action"]}
    by_rag = _split(rng, decided, {r: RAG_SHARE[r] for r in RAGS})
    counts["decisions.rag"] = by_rag
    within: dict[str, int] = {}
    for rag in RAGS:
        share = WITHIN_BEFORE[rag] + (WITHIN_AFTER[rag] - WITHIN_BEFORE[rag]) * progress
        within[rag] = int(by_rag[rag] * min(0.99, share * rng.uniform(0.96, 1.04)))
    counts["decisions.within_deadline"] = within
    counts["decisions.breached"] = {rag: by_rag[rag] - within[rag] for rag in RAGS}
    counts["interventions.agency"] = _split(
        rng, int(counts["referrals.total"]["all"] * (0.55 + 0.25 * progress)), INTERVENTIONS
    )
    people = int(contacts * 1.25)
    counts["equality.age_band"] = _split(rng, people, AGES)
    female = int(people * rng.uniform(0.47, 0.52))
    counts["equality.gender"] = {"female": female, "male": people - female - 12, "not-recorded": 12}
    counts["equality.ethnicity"] = {"not-recorded": people}
    counts["equality.disability"] = {"not-recorded": people}
    figures_counts = []
    for name, values in counts.items():
        family = FAMILIES[name]
        for category in [*family.categories, *sorted(set(values) - set(family.categories))]:
            value, suppressed = suppress(max(0, values.get(category, 0)))
            figures_counts.append(CountFigure(name, category, value, suppressed))
    statistics = []
    for rag in RAGS:
        days = DAYS_BEFORE[rag] + (DAYS_AFTER[rag] - DAYS_BEFORE[rag]) * progress
        days *= rng.uniform(0.9, 1.1)
        basis = by_rag[rag]
        statistics += [
            StatisticFigure("turnaround.mean_working_days", rag, round(days, 2), basis),
            StatisticFigure("turnaround.median_working_days", rag, round(days * 0.8, 2), basis),
            StatisticFigure("turnaround.median_hours", rag, round(days * 0.8 * 8 * 1.6, 1), basis),
        ]
    statistics.append(StatisticFigure("disclosures.median_hours", "all", 0.0, 0))
    return MonthlyFigures(
        month=month_text(month),
        counts=tuple(figures_counts),
        statistics=tuple(statistics),
        generated_at_ms=int(now.timestamp() * 1000),
        software_version="demo-data",
    )
