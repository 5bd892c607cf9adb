"""An agency professional's research: their agency's open tasks, and for one referral their
agency's records on its people, their contributions and the release decision on each.

Thin adapters over `node.referrals.research`: the firewall (own agency's records only, only the
owning agency decides a release) is the service's, and its refusals are shown on their fields.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from node import access
from node.access import Actor
from node.referrals.common import ReferralError
from node.referrals.intake import CONCERN_CATEGORIES
from node.referrals.research import (
    add_contribution,
    complete_task,
    own_items_for_referral,
    set_release,
)
from node.referrals.triage import queue
from node.referrals.view import agency_names, view_referral
from node.store.models import ReleaseState
from node.web.permissions import roles
from node.web.referrals.display import install_filters
from node.web.referrals.tags import install_tags
from node.web.refusals import error_summary, show_refusal
from node.web.research.forms import (
    OTHER_BASIS,
    AddByReferenceForm,
    AddItemForm,
    CompleteForm,
    ContributionForm,
    ReleaseForm,
    release_form,
)
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("research", __name__, template_folder="templates")
install_filters(blueprint)
install_tags(blueprint)

RELEASE_MESSAGES = {
    ReleaseState.HELD: "held: it stays inside the hub",
    ReleaseState.RELEASED: "released: it goes in the information product",
    ReleaseState.SIGNPOSTED: "signposted: the information product says whom to ask",
}


@blueprint.get("/research")
@roles(access.RESEARCHERS)
def index() -> ResponseReturnValue:
    with unit_of_work() as db:
        entries = queue(db, _actor(), current_node().config.referrals)
    # Laid out after the commit, outside the write lock.
    return render_template("research/index.html", entries=entries, categories=CONCERN_CATEGORIES)


@blueprint.get("/research/<id:referral_id>")
@roles(access.RESEARCHERS)
def referral(referral_id: int) -> ResponseReturnValue:
    return _research_page(referral_id)


@blueprint.post("/research/<id:referral_id>/items")
@roles(access.RESEARCHERS)
def add_item(referral_id: int) -> ResponseReturnValue:
    form = AddItemForm()
    if form.validate():
        try:
            with unit_of_work() as db:
                item = add_contribution(db, _actor(), referral_id, source_item_id=form.item_id.data)
                added = item.agency_reference or item.title
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash(f"{added} added to the referral. It is held until you decide its release.")
            return redirect(url_for(".referral", referral_id=referral_id, _anchor="contributions"))
    return _research_page(referral_id, failed=("records", form))


@blueprint.post("/research/<id:referral_id>/items/by-reference")
@roles(access.RESEARCHERS)
def add_by_reference(referral_id: int) -> ResponseReturnValue:
    form = AddByReferenceForm()
    if form.validate():
        try:
            with unit_of_work() as db:
                item = add_contribution(
                    db,
                    _actor(),
                    referral_id,
                    item_ref=form.item_ref.data or "",
                    unlinked_reason=form.unlinked_reason.data or "",
                )
                added = item.agency_reference or item.title
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash(f"{added} added to the referral, with your reason. It is held until you decide.")
            return redirect(url_for(".referral", referral_id=referral_id, _anchor="contributions"))
    return _research_page(referral_id, failed=("by-reference", form))


@blueprint.post("/research/<id:referral_id>/contributions")
@roles(access.RESEARCHERS)
def write(referral_id: int) -> ResponseReturnValue:
    form = ContributionForm()
    if form.validate():
        try:
            with unit_of_work() as db:
                add_contribution(
                    db,
                    _actor(),
                    referral_id,
                    title=form.title.data or "",
                    content=form.content.data or "",
                    agency_reference=form.agency_reference.data or "",
                )
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash("Your contribution was added. It is held until you decide its release.")
            return redirect(url_for(".referral", referral_id=referral_id, _anchor="contributions"))
    return _research_page(referral_id, failed=("write", form))


@blueprint.post("/research/<id:referral_id>/contributions/<id:contribution_id>/release")
@roles(access.RESEARCHERS)
def release(referral_id: int, contribution_id: int) -> ResponseReturnValue:
    form = ReleaseForm(prefix=f"item-{contribution_id}")
    if form.validate():
        state = ReleaseState(form.state.data)
        try:
            with unit_of_work() as db:
                changed = set_release(
                    db,
                    _actor(),
                    contribution_id,
                    state,
                    form.reason.data or "",
                    form.chosen_basis(),
                    referral_id=referral_id,
                    seen_version=form.seen_version(),
                )
        except ReferralError as exc:
            aliases = (
                {"lawful_basis": "other_basis"} if form.lawful_basis.data == OTHER_BASIS else {}
            )
            show_refusal(form, exc, aliases=aliases)
        else:
            flash(
                f"The item is {RELEASE_MESSAGES[state]}."
                if changed
                else f"Nothing changed: the item was already {state.value}, for the same reason."
            )
            return redirect(
                url_for(".referral", referral_id=referral_id, _anchor=f"item-{contribution_id}")
            )
    return _research_page(referral_id, failed=(f"item-{contribution_id}", form))


@blueprint.post("/research/<id:referral_id>/complete")
@roles(access.RESEARCHERS)
def complete(referral_id: int) -> ResponseReturnValue:
    form = CompleteForm()
    if form.validate():
        try:
            with unit_of_work() as db:
                task = complete_task(db, _actor(), referral_id, seen_version=form.seen_version())
                agency = task.agency_code
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash(f"Research marked complete for {_agency_name(agency)}.")
            return redirect(url_for(".index"))
    return _research_page(referral_id, failed=("complete", form))


def _research_page(referral_id: int, failed: tuple[str, FlaskForm] | None = None) -> str:
    actor = _actor()
    with unit_of_work() as db:
        try:
            view = view_referral(db, actor, referral_id)
        except ReferralError:
            abort(404)
        items = own_items_for_referral(db, actor, referral_id)
        own = [c for c in view.contributions if c.agency_code == actor.agency_code]
        release_forms: dict[int, ReleaseForm] = {c.id: release_form(c) for c in own}
        forms: dict[str, Any] = {
            "write": ContributionForm(formdata=None),
            "by-reference": AddByReferenceForm(formdata=None),
        }
        anchor, failed_form = failed if failed else ("", None)
        if failed_form is not None:
            if isinstance(failed_form, ReleaseForm):
                item_id = int(anchor.removeprefix("item-"))
                current = next((c for c in own if c.id == item_id), None)
                if current is not None:
                    failed_form.now_at(current.version)
                release_forms[item_id] = failed_form
            else:
                forms[anchor] = failed_form
        # view_referral admitted the actor, so their agency has a task on this referral.
        task = next(t for t in view.tasks if t.agency_code == actor.agency_code)
        agencies = agency_names(db)
    # Laid out after the commit (the reads' audit entries with it), outside the write lock.
    return render_template(
        "research/referral.html",
        view=view,
        referral=view.referral,
        items=items,
        added={c.source_item_id for c in own if c.source_item_id is not None},
        own=own,
        release_forms=release_forms,
        forms=forms,
        task=task,
        agencies=agencies,
        agency_name=_agency_name(actor.agency_code or ""),
        categories=CONCERN_CATEGORIES,
        form=failed_form,
        failed_anchor=anchor,
        errors=error_summary(failed_form, anchor) if failed_form is not None else [],
    )


def _agency_name(code: str) -> str:
    user = current_user()
    return user.agency_name if user is not None and user.agency_name else code


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets no one here unsigned
        raise RuntimeError("a research page was reached without a signed-in user")
    return user.actor
