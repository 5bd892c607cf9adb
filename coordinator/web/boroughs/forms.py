"""The editors' forms for a borough's plan: each a small WTForms class with GOV.UK widgets,
carrying the version of what it edits. The forms check what a browser sends (a real date, a
number, a choice); the services in coordinator/rollout check the rest and name the field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from coordinator.rollout.words import (
    AGREEMENT_STATUS_NAMES,
    ARRANGEMENT_NAMES,
    CONSULTATION_NAMES,
    FUNDING_KIND_NAMES,
    STAGE_NAMES,
)
from coordinator.web.fields import DateField, NumberField, VersionField


def options(pairs: object) -> list[SelectChoice]:
    """Choices as wtforms wants them (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[attr-defined]


def _notes(label: str = "Notes") -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        validators=[Length(max=2000, message=f"{label} must be 2,000 characters or fewer")],
    )


class BoroughPlanForm(FlaskForm):
    version = VersionField()
    stage = RadioField(
        "Stage",
        widget=GovRadioInput(),
        choices=options((stage.value, name) for stage, name in STAGE_NAMES.items()),
        validators=[InputRequired("Choose the borough's stage")],
    )
    wave_id = SelectField("Wave", widget=GovSelect(), choices=[])
    target_go_live = DateField("Target go-live date", description="For example, 30 11 2026")
    went_live_on = DateField(
        "Day the hub went live", description="Only for a live hub. For example, 14 11 2026"
    )
    notes = _notes()


class MilestoneForm(FlaskForm):
    version = VersionField()
    title = StringField(
        "Milestone",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the milestone"),
            Length(max=200, message="Milestone must be 200 characters or fewer"),
        ],
    )
    due_on = DateField(
        "Due date", description="For example, 30 11 2026", required="Enter the date it is due"
    )
    completed_on = DateField(
        "Date done", description="Leave blank until it is done. For example, 2 11 2026"
    )
    notes = _notes()


class RemoveForm(FlaskForm):
    version = VersionField()


class AssessmentForm(FlaskForm):
    assessed_on = DateField(
        "Date of the assessment",
        description="For example, 12 10 2026",
        required="Enter the date of the assessment",
    )
    level = RadioField(
        "Level assessed",
        widget=GovRadioInput(),
        choices=[],
        validators=[InputRequired("Choose the level the borough was assessed at")],
    )
    notes = _notes()


class PartnerForm(FlaskForm):
    version = VersionField()
    arrangement = RadioField(
        "How the agency takes part",
        widget=GovRadioInput(),
        choices=options((a.value, name) for a, name in ARRANGEMENT_NAMES.items()),
        validators=[InputRequired("Choose how the agency takes part")],
    )
    since = DateField("Since", description="The day it joined the hub. For example, 1 9 2026")


class AgreementForm(FlaskForm):
    version = VersionField()
    status = RadioField(
        "Status",
        widget=GovRadioInput(),
        choices=options((s.value, name) for s, name in AGREEMENT_STATUS_NAMES.items()),
        validators=[InputRequired("Choose the status")],
    )
    started_on = DateField("Work started on")
    signed_on = DateField("Signed on")
    review_on = DateField("Review due on")
    consultation = RadioField(
        "Local consultation",
        widget=GovRadioInput(),
        choices=options((s.value, name) for s, name in CONSULTATION_NAMES.items()),
        default="not-started",
    )
    consultation_opened_on = DateField("Consultation opened on")
    consultation_closed_on = DateField("Consultation closed on")
    notes = _notes()


class FundingForm(FlaskForm):
    version = VersionField()
    kind = RadioField(
        "What it pays for",
        widget=GovRadioInput(),
        choices=options((k.value, name) for k, name in FUNDING_KIND_NAMES.items()),
        validators=[InputRequired("Choose whether this is the police cost or a contribution")],
    )
    funder = StringField(
        "Who pays",
        widget=GovTextInput(),
        description="For example, Metropolitan Police Service, or the borough's children's services",
        validators=[
            InputRequired("Enter who pays"),
            Length(max=200, message="Who pays must be 200 characters or fewer"),
        ],
    )
    amount_pounds = NumberField(
        "Amount a year, in pounds",
        description="For example, 75,000",
        required="Enter the amount in pounds a year",
    )
    notes = _notes()


class BaselineForm(FlaskForm):
    version = VersionField()
    period_from = DateField(
        "First day of the snapshot audit", required="Enter the first day of the snapshot audit"
    )
    period_to = DateField(
        "Last day of the snapshot audit", required="Enter the last day of the snapshot audit"
    )
    sample_size = NumberField(
        "Contacts in the audit", description="How many contacts the snapshot audit looked at"
    )
    red_contacts = NumberField(
        "Red: contacts a month", whole=False, required="Enter the red contacts a month"
    )
    red_mean_days = NumberField(
        "Red: mean turnaround, working days",
        whole=False,
        required="Enter the red mean turnaround",
    )
    red_median_days = NumberField(
        "Red: median turnaround, working days",
        whole=False,
        required="Enter the red median turnaround",
    )
    amber_contacts = NumberField(
        "Amber: contacts a month", whole=False, required="Enter the amber contacts a month"
    )
    amber_mean_days = NumberField(
        "Amber: mean turnaround, working days",
        whole=False,
        required="Enter the amber mean turnaround",
    )
    amber_median_days = NumberField(
        "Amber: median turnaround, working days",
        whole=False,
        required="Enter the amber median turnaround",
    )
    green_contacts = NumberField(
        "Green: contacts a month", whole=False, required="Enter the green contacts a month"
    )
    green_mean_days = NumberField(
        "Green: mean turnaround, working days",
        whole=False,
        required="Enter the green mean turnaround",
    )
    green_median_days = NumberField(
        "Green: median turnaround, working days",
        whole=False,
        required="Enter the green median turnaround",
    )
    notes = _notes()
