"""The user list and the hub's agencies, read only; administrators change them with `mash-node`."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from node import access, users
from node.referrals.view import agency_names
from node.web.permissions import roles
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("admin", __name__, template_folder="templates")


@blueprint.get("/admin")
@roles(access.OVERSEERS)
def index() -> ResponseReturnValue:
    user = current_user()
    assert user is not None  # check_permission lets no one here unsigned
    with unit_of_work() as db:
        people = users.list_users(db, user.actor)
        names = agency_names(db)
    return render_template(
        "admin/index.html",
        people=people,
        agencies=current_node().config.agencies,
        names=names,
    )
