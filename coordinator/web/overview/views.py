"""London at a glance: the waves on a timeline, how many boroughs are at each stage, late
milestones first, and the map of the 33 authorities by stage (and the favicon); above them, any
enrolled node gone silent or caught by the audit witness."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.evaluation import analysis
from coordinator.nodes.read import enrolled_nodes
from coordinator.rollout import read
from coordinator.web.display import cached, london_map, stage_chart, today, wave_timeline
from coordinator.web.permissions import public, roles
from coordinator.web.services import current_coordinator, reading

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

    settings = current_coordinator().config.directory
    with reading() as session:  # not cached: heartbeats arrive between changes to the plan
        nodes = enrolled_nodes(
            session, silent_after=dt.timedelta(seconds=settings.silent_after_seconds)
        ).nodes
    live = [n for n in nodes if not n.revoked]
    return render_template(
        "overview/index.html",
        content=cached(("overview", on), draw),
        silent=[n.name for n in live if n.health is None or n.health.silent],
        inconsistent=[n.name for n in live if n.witness_flags],
    )


@blueprint.get("/favicon.ico")
@public
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
