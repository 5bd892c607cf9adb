"""The interim and final evaluation reports, from the stored figures: as a page, as a PDF
(WeasyPrint, as the node's information product) and as CSV, small numbers suppressed and the
method stated. The interim report covers the year from the first hub's go-live, the final one two
years; until its period ends a report is marked as a draft of the figures so far."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, make_response, render_template
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.evaluation import analysis, reports
from coordinator.rollout import read
from coordinator.store.models import utcnow
from coordinator.web import figures
from coordinator.web.display import cached, cached_bytes, stage_chart, today
from coordinator.web.permissions import roles
from coordinator.web.reports.printing import for_print
from coordinator.web.services import current_coordinator, reading
from mash_common.web import STATIC_FOLDER
from mash_common.web.pdf import render_pdf

blueprint = Blueprint("reports", __name__, template_folder="templates")


def _period(kind: str) -> reports.ReportPeriod:
    if kind not in reports.KINDS:
        abort(404)
    with reading() as session:
        return reports.period(session, kind, today())


@blueprint.get("/reports")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    periods = [_period(kind) for kind in reports.KINDS]
    return render_template("reports/index.html", periods=periods)


def _context(period: reports.ReportPeriod) -> dict[str, Any]:
    assert period.first is not None and period.last is not None
    with reading() as session:
        loaded = analysis.load(session, period.first, period.last)
        baseline = analysis.london_baseline_days(session)
        comparison = analysis.compare(session, period.first, period.last)
        waves = read.waves(session)
        overview = read.overview(session, today())
        agreements = read.agreement_counts(session)
        investment = read.investment(session)
    return {
        "period": period,
        "fig": loaded,
        "method": reports.METHOD,
        "waves": waves,
        "overview": overview,
        "agreements": agreements,
        "investment": investment,
        "stages": stage_chart(overview.stage_counts),
        "charts_volume": [
            figures.contacts(loaded, prefix="r-"),
            figures.rag_mix(loaded, prefix="r-"),
        ],
        "charts_time": [
            figures.timeliness(loaded, prefix="r-"),
            figures.turnaround(loaded, baseline, prefix="r-"),
        ],
        "before_after": figures.before_after(comparison, prefix="r-")
        if comparison.before_after
        else None,
        "wave_table": figures.wave_table(comparison),
        "charts_more": [
            figures.bar_family(loaded, "interventions.agency", "r-interventions"),
            figures.repeats(loaded, prefix="r-"),
            figures.bar_family(loaded, "contacts.source", "r-sources"),
            figures.bar_family(loaded, "contacts.concern", "r-concerns"),
        ],
        "equality": [
            figures.bar_family(loaded, f, f"r-{f}")
            for f in ("equality.age_band", "equality.gender")
        ],
        "cross": figures.cross_borough(loaded),
        "headline": {
            "contacts": loaded.total("contacts.total", "all"),
            "referrals": loaded.total("referrals.total", "all"),
            "within": figures.share_text(
                loaded.family_total("decisions.within_deadline"),
                loaded.family_total("decisions.rag"),
            ),
            "interventions": loaded.family_total("interventions.agency"),
            "repeats": figures.share_text(
                loaded.total("contacts.re_referral", "within-12-months"),
                loaded.total("contacts.total", "all"),
            ),
        },
        "generated": utcnow(),
        "service_name": current_coordinator().config.name,
    }


def _content(period: reports.ReportPeriod) -> str:
    return render_template("reports/_report.html", **_context(period))


@blueprint.get("/reports/<kind>")
@roles(access.READERS)
def show(kind: str) -> ResponseReturnValue:
    period = _period(kind)
    content = (
        cached(("report", kind, period.today), lambda: _content(period))
        if period.available
        else None
    )
    return render_template("reports/show.html", period=period, content=content)


@blueprint.get("/reports/<kind>.pdf")
@roles(access.READERS)
def pdf(kind: str) -> ResponseReturnValue:
    period = _period(kind)
    if not period.available:
        abort(404)

    def make() -> bytes:
        content = cached(("report", kind, period.today), lambda: _content(period))
        html = render_template("reports/print.html", period=period, content=for_print(content))
        return render_pdf(html, STATIC_FOLDER)

    response = make_response(cached_bytes(("report-pdf", kind, period.today), make))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(period)}.pdf"'
    return response


@blueprint.get("/reports/<kind>.csv")
@roles(access.READERS)
def csv(kind: str) -> ResponseReturnValue:
    period = _period(kind)
    with reading() as session:
        text = reports.csv_text(session, period)
    response: Response = make_response(text.encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(period)}.csv"'
    return response


def _file_name(period: reports.ReportPeriod) -> str:
    end = f"-to-{period.last:%Y-%m}" if period.last else ""
    return f"mash-{period.kind}-evaluation-report{end}"
