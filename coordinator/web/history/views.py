"""Every change to the plan, newest first: who, when, what, and each field before and after."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.rollout import read
from coordinator.web.display import change_lines
from coordinator.web.permissions import roles
from coordinator.web.services import reading

blueprint = Blueprint("history", __name__, template_folder="templates")
PAGE = 50


@blueprint.get("/history")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    with reading() as session:
        changes = read.history(session, limit=PAGE, offset=(number - 1) * PAGE)
        total = read.change_count(session)
        waves = {w.id: w.name for w in read.waves(session)}
        names = {b.code: b.name for b in read.borough_summaries(session)}
    return render_template(
        "history/index.html",
        changes=[(c, change_lines(c.fields, waves, c.action)) for c in changes],
        names=names,
        page=number,
        pages=max(1, -(-total // PAGE)),
        total=total,
    )
