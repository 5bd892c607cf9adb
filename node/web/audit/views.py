"""The audit log's state (size, the last signed checkpoint) and, on request, a verification of
the whole log, for node administrators and auditors. Exports stay with `mash-node audit export`."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from node import access
from node.audit.oversight import Verification, log_state, verify_now
from node.web.permissions import roles
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("audit", __name__, template_folder="templates")


class VerifyForm(FlaskForm):
    pass


@blueprint.get("/audit")
@roles(access.OVERSEERS)
def index() -> ResponseReturnValue:
    return _page(None)


@blueprint.post("/audit/verify")
@roles(access.OVERSEERS)
def verify() -> ResponseReturnValue:
    form = VerifyForm()
    verification = None
    if form.validate():
        user = current_user()
        assert user is not None  # check_permission lets no one here unsigned
        node = current_node()
        with unit_of_work() as db:
            verification = verify_now(db, user.actor, [bytes(node.keys.verify_key)], node.anchor)
    return _page(verification)


def _page(verification: Verification | None) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    with unit_of_work() as db:
        state = log_state(db, user.actor)
    return render_template(
        "audit/index.html", state=state, verification=verification, form=VerifyForm()
    )
