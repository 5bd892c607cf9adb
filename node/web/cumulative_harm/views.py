"""A cumulative-harm flag's page: the rule, the events that raised it (each with its agency and
date), the people's referrals, and its dismissal with a reason. The flags service decides who may
see what and audits each view and dismissal; these views ask it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from node import access
from node.access import Actor
from node.cumulative_harm.flags import FlagError, dismiss_flag, view_flag
from node.errors import ErrorCode
from node.referrals.common import ReferralError
from node.web.cumulative_harm.forms import DismissForm
from node.web.permissions import roles
from node.web.referrals.display import install_filters
from node.web.refusals import error_summary, show_refusal
from node.web.services import unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("cumulative_harm", __name__, template_folder="templates")
install_filters(blueprint)


@blueprint.get("/cumulative-harm/flags/<id:flag_id>")
@roles(access.HARM_FLAG_READERS)
def flag(flag_id: int) -> ResponseReturnValue:
    return _flag_page(flag_id, DismissForm())


@blueprint.post("/cumulative-harm/flags/<id:flag_id>/dismiss")
@roles(access.HARM_FLAG_READERS)
def dismiss(flag_id: int) -> ResponseReturnValue:
    form = DismissForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                dismiss_flag(db, _actor(), flag_id, form.reason.data or "", form.seen_version())
        except (FlagError, ReferralError) as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                abort(404)
            show_refusal(form, exc)
        else:
            flash("Flag dismissed. Your reason is kept with it.")
            return redirect(url_for(".flag", flag_id=flag_id))
    return _flag_page(flag_id, form)


def _flag_page(flag_id: int, form: DismissForm) -> ResponseReturnValue:
    try:
        with unit_of_work() as db:
            shown = view_flag(db, _actor(), flag_id)
    except FlagError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            abort(404)
        raise
    if not form.is_submitted():
        form.now_at(shown.version)
    return render_template(
        "cumulative_harm/flag.html",
        flag=shown,
        form=form,
        errors=error_summary(form, "reason"),
    )


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets nobody here without a session
        raise RuntimeError("flag page reached without a signed-in user")
    return user.actor
