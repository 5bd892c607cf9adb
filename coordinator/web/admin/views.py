"""The coordinator's users, for its administrators (added, disabled and reset from the CLI)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from coordinator import access, users
from coordinator.web.permissions import roles
from coordinator.web.services import reading
from coordinator.web.sessions import current_user

blueprint = Blueprint("admin", __name__, template_folder="templates")


@blueprint.get("/users", endpoint="users")
@roles(access.ADMINISTRATORS)
def users_list() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    with reading() as session:
        rows = [
            (u.username, u.display_name, u.role, u.disabled, u.totp_secret is not None)
            for u in users.list_users(session, user.actor)
        ]
    return render_template("admin/users.html", rows=rows)
