"""The start page, listing only the areas that exist in this app and that the user's role may
open (their views' permission markers decide), each said as it is for that role, and the favicon."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from node.store.models import Role
from node.web.formatters import ROLE_NAMES
from node.web.permissions import may_open, public, signed_in
from node.web.services import current_node
from node.web.sessions import current_user

blueprint = Blueprint("home", __name__, template_folder="templates")


@dataclass(frozen=True)
class Area:
    """An area of the hub's work, linked from the start page once its blueprint exists, with
    what it offers each role (`default` for the roles not named)."""

    endpoint: str
    title: str
    default: str
    for_role: Mapping[Role, str] = field(default_factory=dict)
    federated: bool = False  # offered only on a node that takes part in the federation

    def description(self, role: Role) -> str:
        return self.for_role.get(role, self.default)


# In the order the start page lists them. An area whose endpoint is not (yet) registered, or
# whose view's permission marker refuses the user's role, is not shown.
AREAS: tuple[Area, ...] = (
    Area(
        "referrals.index",
        "Contacts and referrals",
        "Record contacts, rate them red, amber or green, and decide what happens next.",
        {
            Role.AGENCY_PROFESSIONAL: "Record a contact, and see the referrals your agency is "
            "researching.",
        },
    ),
    Area(
        "research.index",
        "Research",
        "Check what your agency holds about the people in a referral and contribute it.",
    ),
    Area(
        "disclosures.index",
        "Disclosure requests",
        "Answer other boroughs' requests for what your agency holds.",
        {
            Role.MASH_MANAGER: "Answer other boroughs' requests for what this hub holds, and "
            "follow this hub's requests to them.",
        },
        federated=True,
    ),
    Area(
        "search.index",
        "Search records",
        "Search your agency's records for a person.",
        {
            Role.MASH_MANAGER: "Find a person in the hub's records and see which agencies hold "
            "something on them (not what they hold).",
        },
    ),
    Area(
        "subjects.candidates",
        "Possible matches",
        "Decide whether records that may be the same person are one person.",
    ),
    Area(
        "assessment.show",
        "Strategic assessment",
        "The partnership's figures for a period and area, and problem profiles: aggregates only.",
    ),
    Area(
        "admin.index",
        "Users and agencies",
        "See who can sign in, their roles and agencies, and the hub's agencies.",
    ),
    Area(
        "audit.index",
        "Audit log",
        "See the audit log's state and verify that nothing in it has been changed.",
    ),
)


@blueprint.get("/")
@signed_in
def start() -> ResponseReturnValue:
    user = current_user()
    assert user is not None  # check_permission lets no one here unsigned
    federated = current_node().config.federation is not None
    areas = [
        (area, area.description(user.role))
        for area in AREAS
        if may_open(area.endpoint, user) and (federated or not area.federated)
    ]
    role = ROLE_NAMES.get(user.role, user.role.value)
    return render_template("home/start.html", user=user, role_name=role, areas=areas)


@blueprint.get("/favicon.ico")
@public
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
