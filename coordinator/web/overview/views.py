"""London at a glance: the waves on a timeline, how many boroughs are at each stage, late
milestones first, and the map of the 33 authorities by stage (and the favicon)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.evaluation import analysis
from coordinator.rollout import read
from coordinator.web.display import cached, london_map, stage_chart, today, wave_timeline
from coordinator.web.permissions import public, roles
from coordinator.web.services import reading

blueprint = Blueprint("overview", __name__, template_folder="templates")


@blueprint.get("/")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    on = today()

    def draw() -> str:
        with reading() as session:
            view = read.overview(session, on)
            received = analysis.reports_received(session)
            agreements = read.agreement_counts(session)
        return render_template(
            "overview/_content.html",
            view=view,
            received=received,
            agreements=agreements,
            timeline=wave_timeline(view.waves, on),
            stages=stage_chart(view.stage_counts),
            map=london_map(view.boroughs),
        )

    return render_template("overview/index.html", content=cached(("overview", on), draw))


@blueprint.get("/favicon.ico")
@public
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
