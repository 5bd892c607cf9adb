"""The front door's pages: the queue, the contact form, and the referral page with its steps.

Each view is a thin adapter: it parses a form, calls one domain service in one transaction and
redirects (POST-redirect-GET), or shows the service's refusal on the field it names. Who may do
what is the services' rule; the pages only offer the steps `actions` says are open.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError

from node import access
from node.access import Actor
from node.config import ReferralPolicy
from node.errors import ErrorCode
from node.federation.asking import HOLDS
from node.referrals.borough_checks import check_other_boroughs
from node.referrals.common import ReferralError
from node.referrals.deadlines import clock
from node.referrals.intake import CONCERN_CATEGORIES, SOURCE_KINDS, record_contact
from node.referrals.outcome import OUTCOMES, record_decision
from node.referrals.triage import queue, record_lawful_basis, set_rag, withdraw_consent
from node.referrals.view import actions, agency_names, view_referral
from node.store.models import Outcome, Rag, utcnow
from node.web.permissions import may_open, roles
from node.web.referrals import contact
from node.web.referrals.display import hub_time, install_filters
from node.web.referrals.forms import (
    CheckBoroughsForm,
    ContactForm,
    DecisionForm,
    LawfulBasisForm,
    RatingForm,
    VersionedForm,
    WithdrawConsentForm,
    agency_choices,
)
from node.web.referrals.tags import install_tags
from node.web.refusals import PROBLEM, error_summary, show_refusal
from node.web.services import current_federation, current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("referrals", __name__, template_folder="templates")
install_filters(blueprint)
install_tags(blueprint)

FIND, RECORD = "find", "record"


@blueprint.get("/referrals")
@roles(access.HUB_MEMBERS)
def index() -> ResponseReturnValue:
    actor = _actor()
    with unit_of_work() as db:
        entries = queue(db, actor, _policy())
    # Rendered once the transaction (and its audit entry) has committed: the store's write lock
    # is not held while the page is laid out.
    return render_template(
        "referrals/index.html",
        entries=entries,
        categories=CONCERN_CATEGORIES,
        own_agency_only=access.own_agency(actor) is not None,
    )


@blueprint.route("/referrals/new", methods=["GET", "POST"])
@roles(access.HUB_MEMBERS)
def new() -> ResponseReturnValue:
    """Record a contact; the flow (find existing records, choose, record) is `contact`'s."""
    actor = _actor()
    form = ContactForm()
    step = request.form.get("action") if form.is_submitted() else None
    found: dict[int, list[contact.Match]] = {}
    ready = False  # to be recorded: the whole form valid, and a choice made for each person
    with unit_of_work() as db:
        agencies = agency_names(db, active_only=True)
        form.source_agency.choices = agency_choices(agencies, "Choose the agency")
        if step is not None:
            # Finding records needs only the people; recording needs everything.
            valid = form.validate() if step == RECORD else form.people.validate(form)
            valid = contact.require_subject(form) and valid
            found = contact.find_matches(db, actor, form, agency_names(db))
            if step == RECORD:
                ready = contact.check_choices(form, found) and valid
    if ready:
        details, rows = contact.new_contact(form)
        try:
            with unit_of_work() as db:
                referral = record_contact(db, actor, details, _policy())
                reference, referral_id = referral.reference, referral.id
        except ReferralError as exc:
            contact.show_contact_refusal(form, exc, rows)
        else:
            if access.permits(access.require_manager, actor):
                flash(f"Contact {reference} recorded. Rate it red, amber or green next.")
                return redirect(url_for(".show", referral_id=referral_id))
            flash(f"Contact {reference} recorded. The MASH manager will rate it next.")
            return redirect(url_for(".index"))
    radios = contact.match_radios(form, found)
    return render_template(
        "referrals/new.html",
        form=form,
        errors=error_summary(form, "contact-form"),
        radios=radios,
        searched=bool(radios),
        more_people_open=any(
            not entry.form.is_blank() or entry.form.errors for entry in form.people.entries[2:]
        ),
    )


@blueprint.get("/referrals/<id:referral_id>")
@roles(access.HUB_MEMBERS)
def show(referral_id: int) -> ResponseReturnValue:
    return _referral_page(referral_id)


@blueprint.post("/referrals/<id:referral_id>/rating")
@roles(access.MANAGERS)
def rate(referral_id: int) -> ResponseReturnValue:
    form = RatingForm(prefix="rating")
    with unit_of_work() as db:
        form.offer_agencies(agency_names(db, active_only=True))
    if form.validate():
        try:
            with unit_of_work() as db:
                referral = set_rag(
                    db,
                    _actor(),
                    referral_id,
                    Rag(form.rag.data),
                    form.reason.data or "",
                    _policy(),
                    agencies=form.agencies.data or None,
                    seen_version=form.seen_version(),
                )
                message = (
                    f"{referral.reference} rated {Rag(form.rag.data).value}: the decision is due "
                    f"by {hub_time(referral.deadline_at)}."
                )
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash(message)
            return redirect(url_for(".show", referral_id=referral_id))
    return _referral_page(referral_id, failed="rating", rating=form)


@blueprint.post("/referrals/<id:referral_id>/lawful-basis")
@roles(access.MANAGERS)
def lawful_basis(referral_id: int) -> ResponseReturnValue:
    form = LawfulBasisForm(prefix="basis")
    if form.validate():
        try:
            with unit_of_work() as db:
                record_lawful_basis(
                    db,
                    _actor(),
                    referral_id,
                    form.kind.data or "",
                    form.lawful_basis.data or "",
                    form.reason.data or "",
                    seen_version=form.seen_version(),
                )
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash("Consent recorded." if form.kind.data == "consent" else "Lawful basis recorded.")
            return redirect(url_for(".show", referral_id=referral_id))
    return _referral_page(referral_id, failed="basis", basis=form)


@blueprint.post("/referrals/<id:referral_id>/withdraw-consent")
@roles(access.HUB_MEMBERS)
def withdraw(referral_id: int) -> ResponseReturnValue:
    form = WithdrawConsentForm(prefix="withdraw")
    if form.validate():
        try:
            with unit_of_work() as db:
                withdraw_consent(
                    db,
                    _actor(),
                    referral_id,
                    form.reason.data or "",
                    seen_version=form.seen_version(),
                )
        except ReferralError as exc:
            show_refusal(form, exc)
        else:
            flash("Consent withdrawn: nothing more of this adult's information can be released.")
            return redirect(url_for(".show", referral_id=referral_id))
    return _referral_page(referral_id, failed="withdraw", withdraw=form)


@blueprint.post("/referrals/<id:referral_id>/decision")
@roles(access.MANAGERS)
def decide(referral_id: int) -> ResponseReturnValue:
    form = DecisionForm(prefix="decision")
    with unit_of_work() as db:
        _offer_agencies(form, agency_names(db, active_only=True))
    if form.validate():
        rows = [i for i, row in enumerate(form.interventions.entries) if not row.form.is_blank()]
        chosen = [form.interventions.entries[i].form for i in rows]
        try:
            with unit_of_work() as db:
                decision = record_decision(
                    db,
                    _actor(),
                    referral_id,
                    Outcome(form.outcome.data),
                    form.rationale.data or "",
                    referred_to=form.referred_to.data or "",
                    interventions=[
                        (row.agency.data or "", row.description.data or "") for row in chosen
                    ],
                    research_open_confirmed=bool(form.research_open_confirmed.data),
                    seen_version=form.seen_version(),
                )
                breached = decision.breached
        except ReferralError as exc:
            show_refusal(form, exc, rows={"interventions": rows})
        else:
            flash(
                "Decision recorded"
                + (", after the deadline: the breach is recorded." if breached else ".")
                + " The information product can now be issued."
            )
            return redirect(url_for(".show", referral_id=referral_id))
    return _referral_page(referral_id, failed="decision", decision=form)


@blueprint.post("/referrals/<id:referral_id>/borough-check")
@roles(access.MANAGERS)
def check_boroughs(referral_id: int) -> ResponseReturnValue:
    """Ask every other borough whether it holds anything on the referral's subjects."""
    federation = current_federation()
    if federation is None:
        abort(404)
    form = CheckBoroughsForm()
    if not form.validate():
        flash("The page had expired: press the button again.", PROBLEM)
        return redirect(url_for(".show", referral_id=referral_id))
    actor = _actor()
    try:
        answers = check_other_boroughs(
            unit_of_work,
            federation.asker,
            actor,
            referral_id,
            current_node().keys.pseudonym(actor.username),
        )
    except ReferralError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            abort(404)
        raise
    holding = sorted({a.name for _, found in answers for a in found if a.outcome == HOLDS})
    flash(
        f"Checked {len(federation.peers)} other borough(s): "
        + (f"{', '.join(holding)} may hold information." if holding else "none holds anything.")
    )
    return redirect(url_for(".show", referral_id=referral_id, _anchor="other-boroughs"))


def _referral_page(referral_id: int, failed: str | None = None, **forms: FlaskForm) -> str:
    """The referral page, with a form that failed (and its errors) in place of the fresh one."""
    actor = _actor()
    with unit_of_work() as db:
        try:
            view = view_referral(db, actor, referral_id)
        except ReferralError:
            abort(404)
        names = agency_names(db)
        active = agency_names(db, active_only=True)
    # Rendered once the read and its audit entry have committed (everything the page shows was
    # loaded above), so the store's write lock is not held while the page is laid out.
    decision = forms.get("decision") or DecisionForm(prefix="decision", formdata=None)
    _offer_agencies(decision, active)
    shown: dict[str, Any] = {
        "rating": forms.get("rating") or RatingForm(prefix="rating", formdata=None),
        "basis": forms.get("basis") or LawfulBasisForm(prefix="basis", formdata=None),
        "withdraw": forms.get("withdraw") or WithdrawConsentForm(prefix="withdraw", formdata=None),
        "decision": decision,
        "check": CheckBoroughsForm(formdata=None),
    }
    referral = view.referral
    for form in shown.values():
        if isinstance(form, VersionedForm):
            form.now_at(referral.version)  # the version of what the page shows
    researching = {task.agency_code for task in view.tasks} | set(referral.research_agencies)
    shown["rating"].offer_agencies({c: n for c, n in active.items() if c not in researching})
    policy = _policy()
    return render_template(
        "referrals/show.html",
        view=view,
        referral=referral,
        may=actions(actor, view),
        clock=clock(referral.deadline_at, utcnow(), policy) if referral.deadline_at else None,
        forms=shown,
        form=shown[failed] if failed else None,  # the page title says "Error:" for it
        errors=error_summary(shown[failed], f"{failed}-form") if failed else [],
        agencies=names,
        categories=CONCERN_CATEGORIES,
        source_kinds=SOURCE_KINDS,
        outcomes={outcome.value: label for outcome, label in OUTCOMES.items()},
        hours=policy.hours,
        agencies_active=active,
        usual_researchers={
            rag: [active[code] for code in policy.default_researchers(rag, active)]
            for rag in ("red", "amber", "green")
        },
        subject_url=_subject_url,
        federation=current_federation() is not None,
    )


def _offer_agencies(form: DecisionForm, names: dict[str, str]) -> None:
    for row in form.interventions.entries:
        row.form.agency.choices = agency_choices(names, "Choose the agency")


def _subject_url(subject_id: int | None) -> str | None:
    """A link to the hub subject's page, if the app has one this user may open."""
    if subject_id is None or not may_open("search.subject", current_user()):
        return None
    try:
        return url_for("search.subject", subject_id=subject_id)
    except BuildError:
        return None


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets no one here unsigned
        raise RuntimeError("a front-door page was reached without a signed-in user")
    return user.actor


def _policy() -> ReferralPolicy:
    return current_node().config.referrals
