"""The strategic assessment's pages: the figures for a period and area (or a problem profile for
one theme) as a page with charts and their tables, and as HTML, PDF and CSV exports. Aggregates
only, small counts suppressed; every generation is audited by the service."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, make_response, render_template, request
from flask.typing import ResponseReturnValue

from mash_common.web import charts
from mash_common.web.pdf import render_pdf
from node import access
from node.access import Actor
from node.assessment.figures import (
    Assessment,
    AssessmentError,
    assess,
    current_quarter,
    parse_period,
)
from node.assessment.suppression import NOTE
from node.errors import sentence
from node.referrals.intake import CONCERN_CATEGORIES
from node.web.permissions import roles
from node.web.referrals.display import install_filters
from node.web.services import unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("assessment", __name__, template_folder="templates")
install_filters(blueprint)
CHARTED = ("categories", "sources", "areas", "repeats", "outcomes", "partners", "theme-areas")


@blueprint.get("/assessment")
@roles(access.ASSESSMENT_READERS)
def show() -> ResponseReturnValue:
    made, problem = _generate("page")
    return render_template(
        "assessment/show.html", pdf=False, export=False, problem=problem, **_context(made)
    )


@blueprint.get("/assessment/export.html")
@roles(access.ASSESSMENT_READERS)
def export_html() -> ResponseReturnValue:
    return _export("html")


@blueprint.get("/assessment/export.pdf")
@roles(access.ASSESSMENT_READERS)
def export_pdf() -> ResponseReturnValue:
    return _export("pdf")


@blueprint.get("/assessment/export.csv")
@roles(access.ASSESSMENT_READERS)
def export_csv() -> ResponseReturnValue:
    return _export("csv")


def _export(kind: str) -> ResponseReturnValue:
    """The assessment as a file to keep: the document alone (HTML, PDF) or its tables (CSV)."""
    made, problem = _generate(kind)
    if made is None:
        return render_template(
            "assessment/show.html", pdf=False, export=False, problem=problem, **_context(None)
        ), 400
    name = _file_name(made)
    if kind == "csv":
        body: Any = _csv(made)
        response = make_response(body)
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        html = render_template(
            "assessment/show.html", pdf=kind == "pdf", export=True, problem="", **_context(made)
        )
        if kind == "pdf":
            response = make_response(render_pdf(html, Path(current_app.static_folder or "static")))
            response.headers["Content-Type"] = "application/pdf"
        else:
            response = make_response(html)
            response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _generate(purpose: str) -> tuple[Assessment | None, str]:
    args = request.args
    try:
        period = parse_period(args.get("period") or current_quarter(dt.date.today()))
        with unit_of_work() as db:
            made = assess(
                db,
                _actor(),
                period,
                args.get("area", ""),
                args.get("theme", ""),
                purpose,
            )
    except AssessmentError as exc:
        return None, sentence(exc.message)
    return made, ""


def _context(made: Assessment | None) -> dict[str, Any]:
    args = request.args
    return {
        "made": made,
        "charts": _charts(made) if made is not None else [],
        "note": NOTE,
        "themes": CONCERN_CATEGORIES,
        "chosen": {
            "period": args.get("period") or current_quarter(dt.date.today()),
            "area": args.get("area", ""),
            "theme": args.get("theme", ""),
        },
        "query": {k: v for k, v in args.items() if k in ("period", "area", "theme") and v},
    }


def _charts(made: Assessment) -> list[charts.Chart]:
    """A bar for each row's total over the period (suppressed rows drawn as none, marked), over
    the table of every month's counts."""
    found = []
    for figures in made.tables:
        if figures.key not in CHARTED:
            continue
        totals = figures.row_totals()
        items = [
            (label, float(value or 0), charts.PALETTE[i % len(charts.PALETTE)])
            for i, (label, value) in enumerate(totals)
        ]
        table = charts.Table(
            f"{figures.title}, by month ({NOTE})",
            figures.head,
            tuple(figures.rows()),
        )
        found.append(
            charts.bar_list(
                f"chart-{figures.key}",
                figures.title,
                f"{figures.title} over the period: the totals of the table below.",
                items,
                table,
                value_text=[("*" if v is None else f"{v:,}") for _l, v in totals],
                note=figures.note,
            )
        )
    return found


def _csv(made: Assessment) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", *made.tables[0].months, "total"] if made.tables else [])
    for figures in made.tables:
        for row in figures.rows():
            writer.writerow([figures.title, *row])
    writer.writerow([NOTE])
    return out.getvalue()


def _file_name(made: Assessment) -> str:
    parts = ["strategic-assessment", made.period.label]
    if made.theme:
        parts.insert(1, f"problem-profile-{made.theme}")
    if made.area:
        parts.append(made.area)
    return "-".join(parts)


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets nobody here without a session
        raise RuntimeError("assessment page reached without a signed-in user")
    return user.actor
