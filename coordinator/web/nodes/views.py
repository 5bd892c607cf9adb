"""The federation's nodes: who has enrolled, how each is (its latest heartbeat; silent ones and
those the audit witness caught flagged), and (for administrators) revoking one with a reason,
which the next directory carries to every peer."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from coordinator import access
from coordinator.errors import DomainError
from coordinator.nodes import read
from coordinator.nodes.revocation import revoke as revoke_node
from coordinator.web.nodes.forms import RevokeForm
from coordinator.web.permissions import roles
from coordinator.web.refusals import error_summary, show_refusal
from coordinator.web.services import current_coordinator, reading, unit_of_work
from coordinator.web.sessions import current_user

blueprint = Blueprint("nodes", __name__, template_folder="templates")


@blueprint.get("/nodes")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    settings = current_coordinator().config.directory
    with reading() as session:
        nodes = read.enrolled_nodes(
            session, silent_after=dt.timedelta(seconds=settings.silent_after_seconds)
        )
    user = current_user()
    may_revoke = user is not None and access.permits(access.require_admin, user.actor)
    return render_template(
        "nodes/index.html",
        nodes=nodes,
        may_revoke=may_revoke,
        silent_minutes=settings.silent_after_seconds // 60,
    )


@blueprint.route("/nodes/<code>/revoke", methods=["GET", "POST"])
@roles(access.ADMINISTRATORS)
def revoke(code: str) -> ResponseReturnValue:
    with reading() as session:
        node = read.enrolled_node(session, code)
    if node is None or node.revoked:
        flash(f"{code} has no enrolled node to revoke", "error")
        return redirect(url_for(".index"))
    form = RevokeForm()
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        try:
            with unit_of_work() as session:
                version = revoke_node(session, user.actor, code, form.reason.data or "")
        except DomainError as refused:
            show_refusal(form, refused)
        else:
            flash(
                f"{node.name}'s node is revoked: directory version {version} lists it, and every "
                "peer refuses it once it has refreshed",
                "success",
            )
            return redirect(url_for(".index"))
    return render_template("nodes/revoke.html", form=form, errors=error_summary(form), node=node)
