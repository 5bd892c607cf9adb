"""The user list and the hub's agencies, read only; administrators change them with `mash-node`.
The page also says which federation directory the node holds, and warns when it is old."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

from node import access, users
from node.access import Actor
from node.auth import attempts
from node.federation.directory import directory_status
from node.referrals.view import agency_names
from node.store.models import utcnow
from node.web.permissions import roles
from node.web.refusals import PROBLEM
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("admin", __name__, template_folder="templates")


class LiftForm(FlaskForm):
    username = HiddenField(validators=[InputRequired(), Length(max=attempts.USERNAME_LENGTH)])


@blueprint.get("/admin")
@roles(access.OVERSEERS)
def index() -> ResponseReturnValue:
    actor = _actor()
    with unit_of_work() as db:
        people = users.list_users(db, actor)
        names = agency_names(db)
        slowed = (
            attempts.slowed(db, actor, utcnow())
            if access.permits(access.require_admin, actor)
            else []
        )
    return render_template(
        "admin/index.html",
        directory=directory_status(current_node().config),
        people=people,
        agencies=current_node().config.agencies,
        names=names,
        slowed=slowed,
        lift_form=LiftForm(formdata=None),
    )


@blueprint.post("/admin/sign-in-delays")
@roles(access.ADMINISTRATORS)
def lift_delays() -> ResponseReturnValue:
    """Let a user whose sign-in is slowed by failed attempts sign in now (audited)."""
    form = LiftForm()
    if form.validate():
        username = form.username.data or ""
        with unit_of_work() as db:
            attempts.lift(db, _actor(), username)
        flash(f"{username} can sign in again now, without waiting.")
    else:
        flash("Choose whose wait to lift from the list.", PROBLEM)
    return redirect(url_for(".index", _anchor="sign-in-delays"))


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets no one here unsigned
        raise RuntimeError("an administration page was reached without a signed-in user")
    return user.actor
