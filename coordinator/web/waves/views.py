"""The waves: each wave's plan and its boroughs on a timeline, and the editors' form for a wave."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from coordinator import access
from coordinator.errors import ChangedSince, DomainError
from coordinator.rollout import plan, read
from coordinator.web.display import today, wave_timeline
from coordinator.web.fields import DateField, NumberField, VersionField
from coordinator.web.permissions import roles
from coordinator.web.refusals import error_summary, form_errors, show_refusal
from coordinator.web.services import reading, unit_of_work
from coordinator.web.sessions import current_user

blueprint = Blueprint("waves", __name__, template_folder="templates")


class WaveForm(FlaskForm):
    version = VersionField()
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the wave's name"), Length(max=100)],
    )
    description = TextAreaField("Description", widget=GovTextArea(), validators=[Length(max=500)])
    planned_hubs = NumberField("Hubs planned", description="How many hubs the wave puts live")
    target_start = DateField("Planned start")
    target_date = DateField("Target date", description="Every hub of the wave live by this day")
    actual_date = DateField("Actual date", description="The day the wave's last hub went live")


@blueprint.get("/waves")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    on = today()
    with reading() as session:
        waves = read.waves(session)
        unassigned = [b for b in read.borough_summaries(session, on) if b.wave_id is None]
    user = current_user()
    editor = user is not None and access.permits(access.require_editor, user.actor)
    return render_template(
        "waves/index.html",
        waves=waves,
        unassigned=unassigned,
        timeline=wave_timeline(waves, on),
        editor=editor,
    )


@blueprint.route("/waves/<int:wave_id>/edit", methods=["GET", "POST"])
@roles(access.EDITORS)
def edit(wave_id: int) -> ResponseReturnValue:
    with reading() as session:
        wave = read.wave(session, wave_id)
    form = WaveForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(wave.version),
            "name": wave.name,
            "description": wave.description,
            "planned_hubs": wave.planned_hubs,
            "target_start": wave.target_start,
            "target_date": wave.target_date,
            "actual_date": wave.actual_date,
        }
    )
    conflict = None
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        try:
            with unit_of_work() as session:
                plan.update_wave(
                    session,
                    user.actor,
                    wave_id,
                    form.version.version or 0,
                    plan.WaveFields(
                        name=form.name.data or "",
                        description=form.description.data or "",
                        planned_hubs=form.planned_hubs.number,  # type: ignore[arg-type]
                        target_start=form.target_start.data,
                        target_date=form.target_date.data,
                        actual_date=form.actual_date.data,
                    ),
                )
        except ChangedSince as exc:
            conflict = exc
            form.version.data = str(exc.version)
            form_errors(form).append(exc.message)
            with reading() as session:
                wave = read.wave(session, wave_id)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            flash(f"{form.name.data} is saved", "success")
            return redirect(url_for(".index"))
    return render_template(
        "waves/edit.html", form=form, wave=wave, errors=error_summary(form), conflict=conflict
    )
