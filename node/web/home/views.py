"""The start page, listing only the areas that exist in this app and that the user's role may
open (their views' permission markers decide), and the favicon."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from node.store.models import Role
from node.web.permissions import may_open, public, signed_in
from node.web.sessions import current_user

blueprint = Blueprint("home", __name__, template_folder="templates")

ROLE_NAMES = {
    Role.AGENCY_PROFESSIONAL: "Agency professional",
    Role.MASH_MANAGER: "MASH manager",
    Role.NODE_ADMIN: "Node administrator",
    Role.AUDITOR: "Auditor",
}


@dataclass(frozen=True)
class Area:
    """An area of the hub's work, linked from the start page once its blueprint exists."""

    endpoint: str
    title: str
    description: str


# In the order the start page lists them. An area whose endpoint is not (yet) registered, or
# whose view's permission marker refuses the user's role, is not shown.
AREAS: tuple[Area, ...] = (
    Area(
        "referrals.index",
        "Contacts and referrals",
        "Record contacts, rate them red, amber or green, and decide what happens next.",
    ),
    Area(
        "research.index",
        "Research",
        "Check what your agency holds about the people in a referral and contribute it.",
    ),
    Area(
        "disclosures.index",
        "Disclosure requests",
        "Ask other boroughs for what they hold, and answer their requests for your agency.",
    ),
    Area("search.index", "Search records", "Search your agency's records for a person."),
    Area("admin.index", "Users and agencies", "Add users, disable accounts, manage agencies."),
    Area("audit.index", "Audit log", "Review and export who did what, when and why."),
)


@blueprint.get("/")
@signed_in
def start() -> ResponseReturnValue:
    user = current_user()
    areas = [area for area in AREAS if may_open(area.endpoint, user)]
    role = ROLE_NAMES.get(user.role, user.role.value) if user else ""
    return render_template("home/start.html", user=user, role_name=role, areas=areas)


@blueprint.get("/favicon.ico")
@public
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
