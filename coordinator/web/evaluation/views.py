"""The evaluation's pages: how the live hubs are doing, London-wide and for each borough (contacts
and referrals over time, the RAG mix, decisions against their deadlines, turnaround against the
baseline, interventions by partner agency, repeat contacts, who sends the contacts and why,
cross-borough work, equality monitoring); pilot waves against later ones and before against after
go-live; and which reports have arrived. A period of months is chosen with a plain GET form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.evaluation import analysis, baselines
from coordinator.rollout import read
from coordinator.web import figures
from coordinator.web.display import cached
from coordinator.web.permissions import roles
from coordinator.web.services import reading
from mash_common.evaluation import RAGS, add_months, month_text, months_between, parse_month

blueprint = Blueprint("evaluation", __name__, template_folder="templates")
DEFAULT_MONTHS = 24


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    choices: tuple[dt.date, ...]  # every month with figures, for the form
    problem: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (month_text(self.first), month_text(self.last))


def _period() -> Period | None:
    """The months asked for (?from=YYYY-MM&to=YYYY-MM), within those with figures; by default the
    last 24 months with figures."""
    with reading() as session:
        span = analysis.month_range(session)
    if span is None:
        return None
    choices = tuple(months_between(*span))
    last = span[1]
    first = max(span[0], add_months(last, -(DEFAULT_MONTHS - 1)))
    problem = None
    asked_from, asked_to = request.args.get("from"), request.args.get("to")
    if asked_from or asked_to:
        try:
            first = parse_month(asked_from) if asked_from else first
            last = parse_month(asked_to) if asked_to else last
        except ValueError:
            problem = "Choose the months from the lists"
        else:
            if first > last:
                first, last = last, first
            first, last = max(first, span[0]), min(last, span[1])
            if first > last:
                problem = "There are no figures for those months: showing the latest"
                first, last = max(span[0], add_months(span[1], -(DEFAULT_MONTHS - 1))), span[1]
    return Period(first, last, choices, problem)


def _london(period: Period) -> str:
    with reading() as session:
        loaded = analysis.load(session, period.first, period.last)
        baseline = analysis.london_baseline_days(session)
        received = analysis.reports_received(session)
    return render_template(
        "evaluation/_figures.html",
        fig=loaded,
        single=False,
        headline=_headline(loaded),
        charts_top=[
            figures.contacts(loaded),
            figures.rag_mix(loaded),
            figures.timeliness(loaded),
            figures.turnaround(loaded, baseline),
        ],
        charts_more=[
            figures.bar_family(loaded, "interventions.agency", "interventions"),
            figures.repeats(loaded),
            figures.bar_family(loaded, "contacts.source", "sources"),
            figures.bar_family(loaded, "contacts.concern", "concerns"),
            figures.bar_family(loaded, "decisions.outcome", "outcomes"),
        ],
        equality=figures.equality(loaded),
        cross=figures.cross_borough(loaded),
        hubs=received.boroughs,
    )


def _headline(loaded: analysis.Figures) -> dict[str, str]:
    contacts = loaded.total("contacts.total", "all")
    referrals = loaded.total("referrals.total", "all")
    decided = loaded.family_total("decisions.rag")
    within = loaded.family_total("decisions.within_deadline")
    interventions = loaded.family_total("interventions.agency")
    repeats = loaded.total("contacts.re_referral", "within-12-months")
    days = sum(
        (loaded.stat_over("turnaround.mean_working_days", rag) for rag in RAGS), analysis.Stat()
    )
    return {
        "contacts": f"{contacts.value:,}",
        "referrals": f"{referrals.value:,}",
        "within": figures.share_text(within, decided),
        "days": "–" if days.value is None else f"{days.value:.1f}",
        "interventions": f"{interventions.value:,}",
        "repeats": figures.share_text(repeats, contacts),
    }


@blueprint.get("/evaluation")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    period = _period()
    content = None
    if period is not None:
        content = cached(("evaluation", period.key), lambda: _london(period))
    return render_template("evaluation/index.html", period=period, content=content, borough=None)


@blueprint.get("/evaluation/boroughs/<code>")
@roles(access.READERS)
def borough(code: str) -> ResponseReturnValue:
    with reading() as session:
        summary = next((b for b in read.borough_summaries(session) if b.code == code), None)
    if summary is None:
        abort(404)
    period = _period()

    def draw() -> str:
        assert period is not None
        with reading() as session:
            loaded = analysis.load(session, period.first, period.last, boroughs=[code])
            baseline = baselines.baseline(session, code)
            comparison = analysis.compare(session, period.first, period.last, boroughs=[code])
        rag_baseline = (
            {rag: r.mean_days for rag, r in baseline.by_rag.items() if r.mean_days is not None}
            if baseline
            else None
        )
        return render_template(
            "evaluation/_figures.html",
            fig=loaded,
            single=True,
            headline=_headline(loaded),
            charts_top=[
                figures.contacts(loaded, baseline=baseline.contacts if baseline else None),
                figures.rag_mix(loaded),
                figures.timeliness(loaded),
                figures.turnaround(loaded, rag_baseline),
            ],
            charts_more=[
                figures.bar_family(loaded, "interventions.agency", "interventions"),
                figures.repeats(loaded),
                figures.bar_family(loaded, "contacts.source", "sources"),
                figures.bar_family(loaded, "contacts.concern", "concerns"),
                figures.bar_family(loaded, "decisions.outcome", "outcomes"),
            ],
            equality=figures.equality(loaded),
            cross=figures.cross_borough(loaded),
            before_after=comparison.before_after[0] if comparison.before_after else None,
            hubs=1,
        )

    content = cached(("evaluation", code, period.key), draw) if period is not None else None
    return render_template("evaluation/index.html", period=period, content=content, borough=summary)


@blueprint.get("/evaluation/compare")
@roles(access.READERS)
def compare() -> ResponseReturnValue:
    period = _period()

    def draw() -> str:
        assert period is not None
        with reading() as session:
            comparison = analysis.compare(session, period.first, period.last)
        return render_template(
            "evaluation/_compare.html",
            comparison=comparison,
            before_after=figures.before_after(comparison),
            waves=figures.waves(comparison),
            wave_table=figures.wave_table(comparison),
        )

    content = cached(("compare", period.key), draw) if period is not None else None
    return render_template("evaluation/compare.html", period=period, content=content)


@blueprint.get("/evaluation/received")
@roles(access.READERS)
def received() -> ResponseReturnValue:
    with reading() as session:
        got = analysis.reports_received(session)
        names = {b.code: b.name for b in read.borough_summaries(session)}
    rows = sorted(
        (
            (names.get(code, code), code, first, last, count, at)
            for code, (first, last, count, at) in got.by_borough.items()
        ),
        key=lambda r: r[0],
    )
    missing = sorted(name for code, name in names.items() if code not in got.by_borough)
    return render_template("evaluation/received.html", rows=rows, missing=missing)
