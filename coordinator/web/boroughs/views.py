"""A borough's pages: the list of London's authorities, each borough's page (its place in the
rollout, milestones, progression-framework level over time, partners, agreements, funding,
baseline, figures and history), and the project team editors' forms for each part.

Every form carries the version of what it changes; when someone else saved a change first, the
form is shown again with what the editor typed, who changed it and when, and the current values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from coordinator import access
from coordinator.errors import ChangedSince, DomainError
from coordinator.evaluation import analysis, baselines
from coordinator.rollout import plan, read
from coordinator.rollout.words import AGREEMENT_NAMES
from coordinator.store.models import (
    AgreementKind,
    AgreementStatus,
    Arrangement,
    ConsultationStatus,
    FundingKind,
    Stage,
)
from coordinator.web import figures
from coordinator.web.boroughs.forms import (
    AgreementForm,
    AssessmentForm,
    BaselineForm,
    BoroughPlanForm,
    FundingForm,
    MilestoneForm,
    PartnerForm,
    RemoveForm,
    options,
)
from coordinator.web.display import cached, change_lines, today
from coordinator.web.permissions import roles
from coordinator.web.refusals import error_summary, form_errors, show_refusal
from coordinator.web.services import reading, unit_of_work
from coordinator.web.sessions import current_user
from mash_common.evaluation import RAGS, add_months
from mash_common.web import charts

blueprint = Blueprint("boroughs", __name__, template_folder="templates")


def _actor() -> access.Actor:
    user = current_user()
    assert user is not None
    return user.actor


def _is_editor() -> bool:
    user = current_user()
    return user is not None and access.permits(access.require_editor, user.actor)


# --- reading ------------------------------------------------------------------------------------


@blueprint.get("/boroughs")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    with reading() as session:
        boroughs = read.borough_summaries(session, today())
        received = analysis.reports_received(session)
    return render_template("boroughs/index.html", boroughs=boroughs, received=received.by_borough)


@blueprint.get("/boroughs/<code>")
@roles(access.READERS)
def show(code: str) -> ResponseReturnValue:
    on = today()
    editor = _is_editor()
    with reading() as session:
        name = read.borough_name(session, code)

    def draw() -> str:
        with reading() as session:
            detail = read.borough_detail(session, code, on)
            baseline = baselines.baseline(session, code)
            span = analysis.month_range(session)
            waves = {w.id: w.name for w in read.waves(session)}
            figures_view = None
            if span is not None:
                last = span[1]
                first = max(span[0], add_months(last, -23))
                loaded = analysis.load(session, first, last, boroughs=[code])
                if loaded.report_count:
                    figures_view = loaded
        charts_shown = []
        if figures_view is not None:
            rag_baseline = (
                {rag: r.mean_days for rag, r in baseline.by_rag.items() if r.mean_days is not None}
                if baseline
                else None
            )
            charts_shown = [
                figures.contacts(
                    figures_view, baseline=baseline.contacts if baseline else None, prefix="b-"
                ),
                figures.turnaround(figures_view, rag_baseline, prefix="b-"),
            ]
        return render_template(
            "boroughs/_show.html",
            detail=detail,
            baseline=baseline,
            level_chart=_level_chart(detail, on),
            charts=charts_shown,
            changes=[(c, change_lines(c.fields, waves, c.action)) for c in detail.changes],
            editor=editor,
        )

    # The page is the same for every user of the same kind (editors see the change links).
    content = cached(("borough", code, editor, on), draw)
    return render_template("boroughs/show.html", name=name, content=content)


def _level_chart(detail: read.BoroughDetail, on: dt.date) -> charts.Chart | None:
    if not detail.assessments:
        return None
    spans = [(a.assessed_on, a.level) for a in detail.assessments]
    labels = [f"{a.assessed_on:%b %y}" for a in detail.assessments]
    return charts.line_chart(
        "framework-level",
        "Progression framework level over time",
        "The level the borough was assessed at, at each assessment, from 1 (standard provision) "
        "to 5 (full MASH-style co-location).",
        labels,
        [
            charts.Series(
                "Level assessed", [level for _day, level in spans], charts.COLOURS["turquoise"]
            )
        ],
        charts.Table(
            "Progression framework assessments",
            ("Assessed on", "Level", "Level name"),
            tuple(
                (f"{a.assessed_on.day} {a.assessed_on:%B %Y}", str(a.level), a.level_name)
                for a in detail.assessments
            ),
        ),
        y_max=5,
        unit="level",
    )


# --- editing: shared steps ---------------------------------------------------------------------


def _edit(
    form: FlaskForm,
    save: Callable[[], None],
    done: str,
    where: str,
    *,
    aliases: dict[str, str] | None = None,
) -> tuple[ResponseReturnValue | None, ChangedSince | None]:
    """Run `save` for a valid form: redirect to `where` with `done` on success; on a refusal,
    put its message on the field it names; when someone else changed it first, keep what was
    typed, move the form to the current version and say who changed it and when."""
    if not form.validate_on_submit():
        return None, None
    try:
        save()
    except ChangedSince as conflict:
        form.version.data = str(conflict.version)  # type: ignore[attr-defined]
        form_errors(form).append(conflict.message)
        return None, conflict
    except DomainError as refused:
        if refused.code.value == "not-found":
            abort(404)
        show_refusal(form, refused, aliases=aliases)
        return None, None
    flash(done, "success")
    return redirect(where), None


def _page(template: str, form: FlaskForm, **context: Any) -> ResponseReturnValue:
    return render_template(template, form=form, errors=error_summary(form), **context)


def _detail(code: str) -> read.BoroughDetail:
    with reading() as session:
        return read.borough_detail(session, code, today())


def _choice(value: Any, kind: type[Any]) -> Any:
    try:
        return kind(value)
    except ValueError:
        return None


# --- the borough's place in the rollout ---------------------------------------------------------


@blueprint.route("/boroughs/<code>/plan", methods=["GET", "POST"])
@roles(access.EDITORS)
def edit(code: str) -> ResponseReturnValue:
    detail = _detail(code)
    b = detail.summary
    form = BoroughPlanForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(b.version),
            "stage": b.stage.value,
            "wave_id": str(b.wave_id or ""),
            "target_go_live": b.target_go_live,
            "went_live_on": b.went_live_on,
            "notes": detail.notes,
        }
    )
    with reading() as session:
        waves = read.waves(session)
    form.wave_id.choices = options(
        [("", "Not yet in a wave")] + [(str(w.id), w.name) for w in waves]
    )

    def save() -> None:
        with unit_of_work() as session:
            plan.update_borough(
                session,
                _actor(),
                code,
                form.version.version,  # type: ignore[arg-type]
                plan.BoroughPlan(
                    stage=Stage(form.stage.data),
                    wave_id=int(form.wave_id.data) if form.wave_id.data else None,
                    target_go_live=form.target_go_live.data,
                    went_live_on=form.went_live_on.data,
                    notes=form.notes.data or "",
                ),
            )

    done, conflict = _edit(
        form, save, f"{b.name}'s stage, wave and dates are saved", url_for(".show", code=code)
    )
    if done is not None:
        return done
    return _page(
        "boroughs/plan.html", form, detail=_detail(code) if conflict else detail, conflict=conflict
    )


# --- milestones -----------------------------------------------------------------------------------


def _milestone_fields(form: MilestoneForm) -> plan.MilestoneFields:
    return plan.MilestoneFields(
        title=form.title.data or "",
        due_on=form.due_on.data,
        completed_on=form.completed_on.data,
        notes=form.notes.data or "",
    )


@blueprint.route("/boroughs/<code>/milestones/new", methods=["GET", "POST"])
@roles(access.EDITORS)
def milestone_new(code: str) -> ResponseReturnValue:
    detail = _detail(code)
    form = MilestoneForm()

    def save() -> None:
        with unit_of_work() as session:
            plan.add_milestone(session, _actor(), code, _milestone_fields(form))

    done, _ = _edit(
        form,
        save,
        f"Milestone “{form.title.data}” added",
        url_for(".show", code=code) + "#milestones",
    )
    if done is not None:
        return done
    return _page("boroughs/milestone.html", form, detail=detail, milestone=None, conflict=None)


@blueprint.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@roles(access.EDITORS)
def milestone_edit(milestone_id: int) -> ResponseReturnValue:
    with reading() as session:
        milestone = read.milestone(session, milestone_id, today())
    form = MilestoneForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(milestone.version),
            "title": milestone.title,
            "due_on": milestone.due_on,
            "completed_on": milestone.completed_on,
            "notes": milestone.notes,
        }
    )

    def save() -> None:
        with unit_of_work() as session:
            plan.update_milestone(
                session, _actor(), milestone_id, form.version.version or 0, _milestone_fields(form)
            )

    where = url_for(".show", code=milestone.borough_code) + "#milestones"
    done, conflict = _edit(form, save, f"Milestone “{form.title.data}” saved", where)
    if done is not None:
        return done
    if conflict is not None:
        with reading() as session:
            milestone = read.milestone(session, milestone_id, today())
    return _page(
        "boroughs/milestone.html",
        form,
        detail=_detail(milestone.borough_code),
        milestone=milestone,
        conflict=conflict,
    )


@blueprint.route("/milestones/<int:milestone_id>/remove", methods=["GET", "POST"])
@roles(access.EDITORS)
def milestone_remove(milestone_id: int) -> ResponseReturnValue:
    with reading() as session:
        milestone = read.milestone(session, milestone_id, today())
    form = RemoveForm(
        data=None if request.method == "POST" else {"version": str(milestone.version)}
    )

    def save() -> None:
        with unit_of_work() as session:
            plan.remove_milestone(session, _actor(), milestone_id, form.version.version or 0)

    where = url_for(".show", code=milestone.borough_code) + "#milestones"
    done, conflict = _edit(form, save, f"Milestone “{milestone.title}” removed", where)
    if done is not None:
        return done
    return _page(
        "boroughs/remove.html",
        form,
        thing=f"the milestone “{milestone.title}”",
        back=where,
        conflict=conflict,
    )


# --- the progression framework ------------------------------------------------------------------


@blueprint.route("/boroughs/<code>/framework/new", methods=["GET", "POST"])
@roles(access.EDITORS)
def assessment_new(code: str) -> ResponseReturnValue:
    detail = _detail(code)
    form = AssessmentForm()
    form.level.choices = options((str(level), f"{level}: {name}") for level, name in detail.levels)

    def save() -> None:
        with unit_of_work() as session:
            plan.record_assessment(
                session,
                _actor(),
                code,
                form.assessed_on.data,
                int(form.level.data) if form.level.data else None,
                form.notes.data or "",
            )

    done, _ = _edit(
        form, save, "The assessment is recorded", url_for(".show", code=code) + "#framework"
    )
    if done is not None:
        return done
    return _page("boroughs/assessment.html", form, detail=detail)


# --- partner agencies -------------------------------------------------------------------------------


@blueprint.route("/boroughs/<code>/partners/<agency>", methods=["GET", "POST"])
@roles(access.EDITORS)
def partner_edit(code: str, agency: str) -> ResponseReturnValue:
    detail = _detail(code)
    with reading() as session:
        partner = read.partner(session, code, agency)
    form = PartnerForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(partner.version),
            "arrangement": partner.arrangement.value,
            "since": partner.since,
        }
    )

    def save() -> None:
        with unit_of_work() as session:
            plan.update_partner(
                session,
                _actor(),
                code,
                agency,
                form.version.version or 0,
                Arrangement(form.arrangement.data),
                form.since.data,
            )

    where = url_for(".show", code=code) + "#partners"
    done, conflict = _edit(
        form, save, f"{partner.agency_name} in {detail.summary.name} is saved", where
    )
    if done is not None:
        return done
    if conflict is not None:
        with reading() as session:
            partner = read.partner(session, code, agency)
    return _page("boroughs/partner.html", form, detail=detail, partner=partner, conflict=conflict)


# --- agreements ----------------------------------------------------------------------------------


@blueprint.route("/boroughs/<code>/agreements/<kind>", methods=["GET", "POST"])
@roles(access.EDITORS)
def agreement_edit(code: str, kind: str) -> ResponseReturnValue:
    agreement_kind = _choice(kind, AgreementKind)
    if agreement_kind is None:
        abort(404)
    detail = _detail(code)
    with reading() as session:
        current = read.agreement(session, code, agreement_kind)
    form = AgreementForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(current.version),
            "status": current.status.value,
            "started_on": current.started_on,
            "signed_on": current.signed_on,
            "review_on": current.review_on,
            "consultation": (current.consultation or ConsultationStatus.NOT_STARTED).value,
            "consultation_opened_on": current.consultation_opened_on,
            "consultation_closed_on": current.consultation_closed_on,
            "notes": current.notes,
        }
    )
    eia = agreement_kind is AgreementKind.EIA

    def save() -> None:
        with unit_of_work() as session:
            plan.update_agreement(
                session,
                _actor(),
                code,
                agreement_kind,
                form.version.version or 0,
                plan.AgreementFields(
                    status=AgreementStatus(form.status.data),
                    started_on=form.started_on.data,
                    signed_on=form.signed_on.data,
                    review_on=form.review_on.data,
                    consultation=_choice(form.consultation.data, ConsultationStatus)
                    if eia
                    else None,
                    consultation_opened_on=form.consultation_opened_on.data if eia else None,
                    consultation_closed_on=form.consultation_closed_on.data if eia else None,
                    notes=form.notes.data or "",
                ),
            )

    name = AGREEMENT_NAMES[agreement_kind]
    where = url_for(".show", code=code) + "#agreements"
    done, conflict = _edit(form, save, f"{detail.summary.name}'s {name} is saved", where)
    if done is not None:
        return done
    if conflict is not None:
        with reading() as session:
            current = read.agreement(session, code, agreement_kind)
    return _page(
        "boroughs/agreement.html",
        form,
        detail=detail,
        agreement=current,
        name=name,
        eia=eia,
        conflict=conflict,
    )


# --- funding -------------------------------------------------------------------------------------


def _funding_fields(form: FundingForm) -> plan.FundingFields:
    return plan.FundingFields(
        kind=FundingKind(form.kind.data),
        funder=form.funder.data or "",
        amount_pounds=form.amount_pounds.number,  # type: ignore[arg-type]
        notes=form.notes.data or "",
    )


def _settings() -> read.SettingsView:
    with reading() as session:
        return read.settings(session)


@blueprint.route("/boroughs/<code>/funding/new", methods=["GET", "POST"])
@roles(access.EDITORS)
def funding_new(code: str) -> ResponseReturnValue:
    detail = _detail(code)
    form = FundingForm()

    def save() -> None:
        with unit_of_work() as session:
            plan.add_funding(session, _actor(), code, _funding_fields(form))

    done, _ = _edit(form, save, "The funding is added", url_for(".show", code=code) + "#funding")
    if done is not None:
        return done
    return _page(
        "boroughs/funding.html",
        form,
        detail=detail,
        funding=None,
        settings=_settings(),
        conflict=None,
    )


@blueprint.route("/funding/<int:funding_id>/edit", methods=["GET", "POST"])
@roles(access.EDITORS)
def funding_edit(funding_id: int) -> ResponseReturnValue:
    with reading() as session:
        current = read.funding(session, funding_id)
    form = FundingForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(current.version),
            "kind": current.kind.value,
            "funder": current.funder,
            "amount_pounds": current.amount_pounds,
            "notes": current.notes,
        }
    )

    def save() -> None:
        with unit_of_work() as session:
            plan.update_funding(
                session, _actor(), funding_id, form.version.version or 0, _funding_fields(form)
            )

    where = url_for(".show", code=current.borough_code) + "#funding"
    done, conflict = _edit(form, save, "The funding is saved", where)
    if done is not None:
        return done
    if conflict is not None:
        with reading() as session:
            current = read.funding(session, funding_id)
    return _page(
        "boroughs/funding.html",
        form,
        detail=_detail(current.borough_code),
        funding=current,
        settings=_settings(),
        conflict=conflict,
    )


@blueprint.route("/funding/<int:funding_id>/remove", methods=["GET", "POST"])
@roles(access.EDITORS)
def funding_remove(funding_id: int) -> ResponseReturnValue:
    with reading() as session:
        current = read.funding(session, funding_id)
    form = RemoveForm(data=None if request.method == "POST" else {"version": str(current.version)})

    def save() -> None:
        with unit_of_work() as session:
            plan.remove_funding(session, _actor(), funding_id, form.version.version or 0)

    where = url_for(".show", code=current.borough_code) + "#funding"
    done, conflict = _edit(form, save, f"The funding from {current.funder} is removed", where)
    if done is not None:
        return done
    return _page(
        "boroughs/remove.html",
        form,
        thing=f"£{current.amount_pounds:,} a year from {current.funder}",
        back=where,
        conflict=conflict,
    )


# --- the baseline ---------------------------------------------------------------------------------


@blueprint.route("/boroughs/<code>/baseline", methods=["GET", "POST"])
@roles(access.EDITORS)
def baseline_edit(code: str) -> ResponseReturnValue:
    detail = _detail(code)
    with reading() as session:
        current = baselines.baseline(session, code)
    data: dict[str, Any] | None = None
    if request.method != "POST" and current is not None:
        data = {
            "version": str(current.version),
            "period_from": current.period_from,
            "period_to": current.period_to,
            "sample_size": current.sample_size,
            "notes": current.notes,
        }
        for rag, values in current.by_rag.items():
            data[f"{rag}_contacts"] = values.contacts
            data[f"{rag}_mean_days"] = values.mean_days
            data[f"{rag}_median_days"] = values.median_days
    form = BaselineForm(data=data)

    def rag(name: str) -> baselines.RagBaseline:
        return baselines.RagBaseline(
            form[f"{name}_contacts"].number,
            form[f"{name}_mean_days"].number,
            form[f"{name}_median_days"].number,
        )

    def save() -> None:
        with unit_of_work() as session:
            baselines.set_baseline(
                session,
                _actor(),
                code,
                form.version.version,
                baselines.BaselineFields(
                    period_from=form.period_from.data,
                    period_to=form.period_to.data,
                    sample_size=form.sample_size.number,  # type: ignore[arg-type]
                    red=rag("red"),
                    amber=rag("amber"),
                    green=rag("green"),
                    notes=form.notes.data or "",
                ),
            )

    where = url_for(".show", code=code) + "#baseline"
    done, conflict = _edit(form, save, f"{detail.summary.name}'s baseline is saved", where)
    if done is not None:
        return done
    if conflict is not None:
        with reading() as session:
            current = baselines.baseline(session, code)
    return _page(
        "boroughs/baseline.html",
        form,
        detail=detail,
        baseline=current,
        rags=RAGS,
        conflict=conflict,
    )
