"""The link review page: open candidate links to confirm (merge) or reject, and recent merges to
undo, every decision with a reason. The subjects service decides and audits; these views ask it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from node import access
from node.access import Actor
from node.errors import sentence
from node.subjects import SubjectError, confirm_candidate, reject_candidate, unmerge
from node.web.permissions import roles
from node.web.refusals import error_summary
from node.web.search.present import agency_directory
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user
from node.web.subjects.board import review_board
from node.web.subjects.forms import CONFIRM, candidate_form, undo_form

blueprint = Blueprint("subjects", __name__, template_folder="templates")

DONE = "subjects-done"


@blueprint.get("/subjects/candidates")
@roles(access.LINK_DECIDERS)
def candidates() -> ResponseReturnValue:
    return _review_page()


@blueprint.post("/subjects/candidates/<id:candidate_id>")
@roles(access.LINK_DECIDERS)
def decide(candidate_id: int) -> ResponseReturnValue:
    form = candidate_form(candidate_id, submitted=True)
    if form.validate_on_submit():
        reason = form.reason.data or ""
        try:
            with unit_of_work() as db:
                if form.decision.data == CONFIRM:
                    merge = confirm_candidate(db, _actor(), candidate_id, reason)
                    message = (
                        f"Subject {merge.merged_id} has been merged into subject "
                        f"{merge.survivor_id} (merge {merge.id}). You can undo this below."
                    )
                else:
                    reject_candidate(db, _actor(), candidate_id, reason)
                    message = (
                        f"Candidate link {candidate_id} rejected: these subjects will not be "
                        "proposed as one person again."
                    )
        except SubjectError as exc:
            _refused(form, exc)
        else:
            flash(message, DONE)
            return redirect(url_for(".candidates"))
    return _review_page(failed=form, failed_id=f"candidate-{candidate_id}")


@blueprint.post("/subjects/merges/<id:merge_id>/undo")
@roles(access.LINK_DECIDERS)
def undo(merge_id: int) -> ResponseReturnValue:
    form = undo_form(merge_id, submitted=True)
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                merge = unmerge(db, _actor(), merge_id, form.reason.data or "")
        except SubjectError as exc:
            _refused(form, exc)
        else:
            count = len(merge.record_ids)
            flash(
                f"Merge {merge.id} undone: subject {merge.merged_id} has its "
                f"{count} record{'' if count == 1 else 's'} back.",
                DONE,
            )
            return redirect(url_for(".candidates"))
    return _review_page(failed=form, failed_id=f"merge-{merge_id}")


def _review_page(failed: FlaskForm | None = None, failed_id: str = "") -> ResponseReturnValue:
    """The page, with the form that was sent back (and its errors) in place of its blank one."""
    config = current_node().config
    agencies = agency_directory(config.agencies)
    with unit_of_work() as db:
        board = review_board(db, _actor(), agencies, ZoneInfo(config.referrals.timezone))
    forms: dict[str, FlaskForm] = {}
    for candidate in board.candidates:
        forms[f"candidate-{candidate.candidate_id}"] = candidate_form(candidate.candidate_id)
    for merge in board.merges:
        forms[f"merge-{merge.merge_id}"] = undo_form(merge.merge_id)
    errors: list[dict[str, str]] = []
    if failed is not None:
        errors = error_summary(failed, f"{failed_id}-reason")
        if failed_id in forms:
            forms[failed_id] = failed
        else:  # decided or undone meanwhile: nothing on the page to link the message to
            errors = [{"text": error["text"]} for error in errors]
    return render_template(
        "subjects/candidates.html", board=board, forms=forms, errors=errors, form=failed
    )


def _refused(form: FlaskForm, error: SubjectError) -> None:
    """The service's refusal, on the reason when it is about the reason, else above the form."""
    if error.field == "reason":
        form.reason.errors = [*form.reason.errors, sentence(error.message)]
    else:
        form.form_errors.append(sentence(str(error)))


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets nobody here without a session
        raise RuntimeError("link review page reached without a signed-in user")
    return user.actor
