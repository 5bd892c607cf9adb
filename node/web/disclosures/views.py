"""Disclosure between boroughs: asking another borough for what it holds (from a referral whose
check said it holds something), and answering other boroughs' requests (the incoming queue; a
request's page with its local match, each agency's decisions on its items, and the answer).

Thin adapters over `node.disclosures`: each view parses a form, calls one service in one
transaction and redirects, or shows the refusal on the field it names. After a request or an
answer is recorded, this worker tries to deliver it at once; the courier of the serving node
retries until it is acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import Field

from node import access
from node.access import Actor
from node.disclosures import DisclosureError, asking, holding
from node.errors import DomainError, ErrorCode
from node.referrals.common import ReferralError, open_referral
from node.referrals.view import agency_names
from node.store.models import (
    IncomingState,
    Rag,
    ReleaseState,
    utcnow,
)
from node.web.disclosures.forms import (
    NOBODY,
    OTHER_BASIS,
    AnswerForm,
    AskForm,
    DeclineForm,
    ItemDecisionForm,
    MatchForm,
    WithdrawForm,
)
from node.web.permissions import roles
from node.web.referrals.display import install_filters
from node.web.referrals.forms import options
from node.web.referrals.tags import install_tags
from node.web.refusals import PROBLEM, error_summary, show_refusal
from node.web.services import current_federation, current_node, unit_of_work
from node.web.sessions import current_user

log = logging.getLogger(__name__)
blueprint = Blueprint("disclosures", __name__, template_folder="templates")
install_filters(blueprint)
install_tags(blueprint)

STATES = {
    "draft": ("govuk-tag--grey", "Being sent"),
    "sent": ("govuk-tag--yellow", "Not delivered yet"),
    "acknowledged": ("govuk-tag--blue", "Awaiting answer"),
    "received": ("govuk-tag--purple", "New"),
    "in-review": ("govuk-tag--blue", "In review"),
    "answered": ("govuk-tag--green", "Answered"),
    "declined": ("govuk-tag--orange", "Declined"),
    "expired": ("govuk-tag--red", "Expired"),
    "cancelled": ("govuk-tag--grey", "Withdrawn"),
    "refused": ("govuk-tag--red", "Refused"),
}


@blueprint.app_template_global("disclosure_state")
def disclosure_state(state: object) -> tuple[str, str]:
    """A request's state as a tag's classes and words."""
    value = getattr(state, "value", state)
    return STATES.get(str(value), ("govuk-tag--grey", str(value)))


@blueprint.app_template_global("disclosure_overdue")
def disclosure_overdue(request_: Any) -> bool:
    return asking.overdue(request_)


# --- the queue -------------------------------------------------------------------------------


@blueprint.get("/disclosures")
@roles(access.HUB_MEMBERS)
def index() -> ResponseReturnValue:
    actor = _actor()
    with unit_of_work() as db:
        incoming = holding.incoming_queue(db, actor)
        outgoing = asking.outgoing_queue(db, actor) if _manager(actor) else []
    return render_template(
        "disclosures/index.html",
        incoming=incoming,
        outgoing=outgoing,
        manager=_manager(actor),
        federation=current_federation() is not None,
        now=utcnow(),
    )


# --- asking ----------------------------------------------------------------------------------


@blueprint.route("/referrals/<id:referral_id>/ask/<id:person_id>", methods=["GET", "POST"])
@roles(access.MANAGERS)
def ask(referral_id: int, person_id: int) -> ResponseReturnValue:
    """The request to a borough (`?borough=`) for what it holds on a subject of the referral."""
    borough = request.args.get("borough", "")
    federation = current_federation()
    holder = federation.peer(borough) if federation is not None else None
    if holder is None:
        abort(404)
    actor = _actor()
    with unit_of_work() as db:
        try:
            referral = open_referral(db, actor, referral_id)
        except ReferralError:
            abort(404)
        found = next(
            (
                a
                for a in asking.askable(db, referral_id)
                if (a.person_id, a.borough) == (person_id, borough)
            ),
            None,
        )
        reference, rag, pathway = referral.reference, referral.rag, referral.pathway.value
    if found is None:
        flash(f"{holder.name} has not said it holds information on this person.", PROBLEM)
        return redirect(
            url_for("referrals.show", referral_id=referral_id, _anchor="other-boroughs")
        )
    form = AskForm()
    if not form.is_submitted() and rag is not None:
        form.urgency.data = rag.value
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                made = asking.request_disclosure(
                    db,
                    actor,
                    current_node().config,
                    holder,
                    referral_id,
                    person_id,
                    form.reason.data or "",
                    form.chosen_basis(),
                    Rag(form.urgency.data),
                )
                disclosure_id = made.id
        except (DisclosureError, ReferralError) as exc:
            other = form.lawful_basis.data == OTHER_BASIS
            show_refusal(form, exc, aliases={"lawful_basis": "other_basis"} if other else {})
        else:
            _deliver(asking.REQUEST, disclosure_id)
            flash(f"Your request has been sent to {holder.name}. Its answer will appear here.")
            return redirect(url_for("referrals.show", referral_id=referral_id, _anchor="requests"))
    return render_template(
        "disclosures/ask.html",
        form=form,
        errors=error_summary(form, "ask-form"),
        holder=holder,
        found=found,
        reference=reference,
        referral_id=referral_id,
        pathway=pathway,
    )


@blueprint.post("/disclosures/outgoing/<id:disclosure_id>/withdraw")
@roles(access.MANAGERS)
def withdraw(disclosure_id: int) -> ResponseReturnValue:
    form = WithdrawForm(prefix=f"withdraw-{disclosure_id}")
    with unit_of_work() as db:
        referral_id = asking.referral_of(db, disclosure_id)
    if referral_id is None:
        abort(404)
    if form.validate():
        try:
            with unit_of_work() as db:
                asking.cancel(
                    db,
                    _actor(),
                    disclosure_id,
                    form.reason.data or "",
                    seen_version=form.seen_version(),
                )
        except DomainError as exc:
            flash(_refusal_words(exc), PROBLEM)
        else:
            _deliver(asking.CANCEL, disclosure_id)
            flash("The request is withdrawn; the other borough is told.")
    else:
        flash("Say why the request is withdrawn.", PROBLEM)
    return redirect(url_for("referrals.show", referral_id=referral_id, _anchor="requests"))


# --- answering -------------------------------------------------------------------------------


@blueprint.get("/disclosures/incoming/<id:request_id>")
@roles(access.HUB_MEMBERS)
def incoming(request_id: int) -> ResponseReturnValue:
    return _request_page(request_id)


@blueprint.post("/disclosures/incoming/<id:request_id>/match")
@roles(access.MANAGERS)
def match(request_id: int) -> ResponseReturnValue:
    form = MatchForm(prefix="match")
    form.subject.choices = options([(request.form.get("match-subject", ""), "")])
    if form.validate():
        chosen = form.subject.data
        subject_id = None if chosen == NOBODY else _int(chosen)
        if chosen != NOBODY and subject_id is None:
            abort(400)
        try:
            with unit_of_work() as db:
                holding.match(
                    db, _actor(), request_id, subject_id, seen_version=form.seen_version()
                )
        except DomainError as exc:
            show_refusal(form, exc, aliases={"subject_id": "subject"})
        else:
            flash(
                "Nobody here matches: send the answer to say so."
                if subject_id is None
                else "Matched. Each agency now decides on its items."
            )
            return redirect(url_for(".incoming", request_id=request_id, _anchor="items"))
    return _request_page(request_id, failed=("match", form))


@blueprint.post("/disclosures/incoming/<id:request_id>/items/<id:item_id>")
@roles(access.RESEARCHERS)
def decide(request_id: int, item_id: int) -> ResponseReturnValue:
    try:  # whose item it is, before anything of the form is looked at
        with unit_of_work() as db:
            holding.require_item_of(db, _actor(), request_id, item_id)
    except DisclosureError:
        abort(404)
    form = ItemDecisionForm(prefix=f"item-{item_id}")
    if form.validate():
        state = ReleaseState(form.state.data)
        try:
            with unit_of_work() as db:
                holding.decide_item(
                    db,
                    _actor(),
                    item_id,
                    state,
                    form.reason.data or "",
                    form.chosen_basis(),
                    seen_version=form.seen_version(),
                )
        except DomainError as exc:
            aliases = (
                {"lawful_basis": "other_basis"} if form.lawful_basis.data == OTHER_BASIS else {}
            )
            show_refusal(form, exc, aliases=aliases)
        else:
            flash(
                "Released: it goes to the asking borough with the answer."
                if state is ReleaseState.RELEASED
                else "Declined: the asking borough gets a signpost to your agency only."
            )
            return redirect(url_for(".incoming", request_id=request_id, _anchor=f"item-{item_id}"))
    return _request_page(request_id, failed=(f"item-{item_id}", form))


@blueprint.post("/disclosures/incoming/<id:request_id>/answer")
@roles(access.MANAGERS)
def answer(request_id: int) -> ResponseReturnValue:
    form = AnswerForm(prefix="answer")
    return _close(request_id, "answer", form, holding.send_answer, form.note, "The answer is sent.")


@blueprint.post("/disclosures/incoming/<id:request_id>/decline")
@roles(access.MANAGERS)
def decline(request_id: int) -> ResponseReturnValue:
    form = DeclineForm(prefix="decline")
    return _close(
        request_id,
        "decline",
        form,
        holding.decline,
        form.reason,
        "The request is declined; the asking borough is told why.",
    )


def _close(
    request_id: int,
    name: str,
    form: AnswerForm | DeclineForm,
    step: Callable[..., object],
    words: Field,
    done: str,
) -> ResponseReturnValue:
    """The manager's answer or refusal: sealed to the asker, then delivered at once if it can
    be (the courier retries until the asking borough has it)."""
    if form.validate():
        try:
            with unit_of_work() as db:
                asker = _asker_box_key(db, request_id)
                step(
                    db,
                    _actor(),
                    request_id,
                    asker,
                    words.data or "",
                    seen_version=form.seen_version(),
                )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            _deliver_answer(request_id)
            flash(done)
            return redirect(url_for(".incoming", request_id=request_id))
    return _request_page(request_id, failed=(name, form))


def _request_page(request_id: int, failed: tuple[str, FlaskForm] | None = None) -> str:
    actor = _actor()
    node = current_node()
    with unit_of_work() as db:
        try:
            view = holding.read_request(db, actor, node.keys, request_id)
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                abort(404)
            raise
        manager = _manager(actor)
        request_ = view.request
        open_ = request_.state in holding.OPEN
        candidates = (
            holding.candidates(db, actor, node.keys, request_id)
            if manager and open_ and request_.matched is None
            else []
        )
        ready = holding.readiness(db, request_)
        agencies = agency_names(db)
    version = request_.version
    forms: dict[str, Any] = {
        "match": MatchForm(prefix="match", formdata=None),
        "answer": AnswerForm(prefix="answer", formdata=None),
        "decline": DeclineForm(prefix="decline", formdata=None),
    }
    item_forms = {
        item.id: ItemDecisionForm(
            prefix=f"item-{item.id}",
            formdata=None,
            data={
                "version": str(item.version),
                "state": item.release_state.value if item.decided else None,
                "reason": item.reason,
                "lawful_basis": item.lawful_basis,
            },
        )
        for item in view.items
        if access.permits(access.require_release_decision, actor, item.agency_code)
    }
    anchor, failed_form = failed if failed else ("", None)
    if failed_form is not None:
        if anchor.startswith("item-"):
            item_forms[int(anchor.removeprefix("item-"))] = failed_form
        else:
            forms[anchor] = failed_form
    for name in ("match", "answer", "decline"):
        forms[name].now_at(version)
    forms["match"].subject.choices = options(
        [(str(c.subject_id), f"Hub subject {c.subject_id}") for c in candidates]
        + [(NOBODY, "Nobody here matches")]
    )
    return render_template(
        "disclosures/incoming.html",
        view=view,
        request_=request_,
        body=view.body,
        items=view.items,
        candidates=candidates,
        ready=ready,
        open_=open_,
        manager=manager,
        own_agency=access.own_agency(actor),
        agencies=agencies,
        forms=forms,
        item_forms=item_forms,
        form=failed_form,
        failed_anchor=anchor,
        errors=error_summary(failed_form, f"{anchor}-form") if failed_form is not None else [],
        IncomingState=IncomingState,
    )


# --- helpers -------------------------------------------------------------------------------


def _asker_box_key(db: Any, request_id: int) -> bytes:
    """The asking borough's X25519 key, from this node's peers, to seal the answer to."""
    federation = current_federation()
    asker = holding.asker_of(db, request_id)
    peer = federation.peer(asker) if federation is not None else None
    if peer is None:
        raise DisclosureError(
            f"{asker} is not one of this node's peers any more: the answer cannot be sealed to it",
            code=ErrorCode.CONFLICT,
        )
    return peer.box_key


def _deliver(kind: str, disclosure_id: int) -> None:
    """Try to deliver at once (the courier retries if this does not get through)."""
    federation = current_federation()
    if federation is None:
        return
    try:
        federation.courier.deliver(kind, disclosure_id)
    except Exception:  # recorded already: the serving node's courier will deliver it
        log.exception("delivering at once failed; the courier will retry")


def _deliver_answer(request_id: int) -> None:
    federation = current_federation()
    if federation is None:
        return
    try:
        federation.courier.deliver_answer(request_id)
    except Exception:  # recorded already: the serving node's courier will deliver it
        log.exception("delivering at once failed; the courier will retry")


def _refusal_words(error: DomainError) -> str:
    return error.message[0].upper() + error.message[1:] + "."


def _int(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def _manager(actor: Actor) -> bool:
    return access.permits(access.require_manager, actor)


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets no one here unsigned
        raise RuntimeError("a disclosure page was reached without a signed-in user")
    return user.actor
