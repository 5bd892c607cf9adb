"""The referral pages' forms: a contact (with its people), a RAG rating, an adult's lawful basis,
a withdrawal of consent, and the decision.

The forms check only what the services cannot be asked without (a choice made, a real date); the
rules themselves (who may, what is enough) are the services', whose refusals `refusals` puts on
the field they name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from node.referrals.intake import CONCERN_CATEGORIES, SOURCE_KINDS
from node.referrals.outcome import OUTCOMES
from node.referrals.triage import LAWFUL_BASES
from node.store.models import Pathway, Rag

PERSON_ROWS = 4  # the subject, then up to three more people (more: add them to the account)
INTERVENTION_ROWS = 3
NEW_PERSON = "new"


class RadioInput(GovRadioInput):
    """GOV.UK radios, without an empty hint when the field has no description."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        if params.get("hint") == {"text": ""}:
            del params["hint"]
        return params


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Choices for a select, radios or checkboxes, from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


GENDERS = options([("", "Not known"), ("Female", "Female"), ("Male", "Male"), ("Other", "Other")])


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def text(label: str, limit: int, description: str = "") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        description=description,
        filters=[_strip],
        validators=[Length(max=limit, message=f"{label} must be {limit} characters or fewer")],
    )


def area(label: str, description: str = "", limit: int = 20_000) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        description=description,
        filters=[_strip],
        validators=[Length(max=limit, message=f"{label} must be {limit} characters or fewer")],
    )


class DateOfBirthField(Field):
    """A GOV.UK date input (day, month, year) that says precisely what is wrong with a date."""

    widget = GovDateInput()
    is_date_input = True  # the error summary links to its day box

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [value.strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        missing = [
            name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part
        ]
        if missing:
            raise ValueError(f"Date of birth must include a {' and a '.join(missing)}")
        if not all(part.isdigit() for part in parts) or len(parts[2]) != 4:
            raise ValueError("Date of birth must be a real date, like 27 3 2015")
        try:
            self.data = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise ValueError("Date of birth must be a real date, like 27 3 2015") from None

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if isinstance(self.data, dt.date) else ""


class PersonForm(Form):
    """One person of the contact; a row left empty is ignored."""

    forenames = text("First names", 200)
    surname = text("Last name", 200, "Enter 'Unknown' if you do not know it")
    date_of_birth = DateOfBirthField("Date of birth", description="For example, 27 3 2015")
    gender = SelectField("Gender", choices=GENDERS, widget=GovSelect(), default="")
    address = text("Address", 500)
    postcode = text("Postcode", 20)
    role = RadioField(
        "Who is this person?",
        choices=options(
            [
                ("household", "A member of the household"),
                ("subject", "Another subject of the concern (for example, a brother or sister)"),
            ]
        ),
        default="household",
        widget=RadioInput(),
    )
    relationship = text(
        "Relationship to the subject", 100, "For example, mother, stepfather, lodger"
    )
    # Offered after "Find existing records": a hub subject's id, or NEW_PERSON.
    match = RadioField("Existing records", choices=[], validate_choice=False)

    def is_blank(self) -> bool:
        named = (self.forenames, self.surname, self.address, self.postcode, self.relationship)
        return not any(field.data for field in named) and not any(self.date_of_birth.raw_data or [])

    def validate_surname(self, field: Field) -> None:
        if not field.data and not self.is_blank():
            raise ValidationError("Enter the last name, or 'Unknown'")


class ContactForm(FlaskForm):
    pathway = RadioField(
        "Who is the contact about?",
        choices=options(
            [
                (Pathway.CHILD.value, "A child, or children"),
                (Pathway.ADULT.value, "A vulnerable adult (18 or over)"),
            ]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose whether the contact is about a child or an adult")],
    )
    source_kind = RadioField(
        "Who made the contact?",
        choices=options(SOURCE_KINDS.items()),
        widget=RadioInput(),
        validators=[InputRequired("Choose who made the contact")],
    )
    source_agency = SelectField(
        "Which agency?",
        choices=[],
        description="If a partner agency",
        widget=GovSelect(),
        default="",
    )
    source_name = text(
        "Name of the person who made the contact", 200, "Leave blank if they gave no name"
    )
    source_contact = text("Their phone number, email or address", 300)
    categories = SelectMultipleField(
        "What is the concern?",
        choices=options(CONCERN_CATEGORIES.items()),
        description="Select all that apply",
        widget=GovCheckboxesInput(),
        validators=[InputRequired("Choose at least one concern category")],
    )
    account = area(
        "What did they tell you?",
        "The account of the concern in the words of the person who made the contact, "
        "with what happened, when, and where the child or adult is now",
    )
    people = FieldList(FormField(PersonForm), min_entries=PERSON_ROWS, max_entries=PERSON_ROWS)

    def validate_account(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Describe the concern")


class CheckBoroughsForm(FlaskForm):
    """Asking the other boroughs: nothing to fill in (the subjects' details are the referral's)."""


class VersionedForm(FlaskForm):
    """A form that changes something two people may change at once: it carries the version the
    person saw, so a change made meanwhile by someone else is never silently replaced."""

    version = HiddenField(
        validators=[
            InputRequired("This page is out of date: open it again"),
            Regexp(r"^[0-9]{1,9}$", message="This page is out of date: open it again"),
        ]
    )

    def seen_version(self) -> int:
        return int(self.version.data or 0)

    def now_at(self, version: int) -> None:
        """The version the page now shows (after a refusal, the form is sent back with it)."""
        self.version.data = str(version)


class RatingForm(VersionedForm):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    rag = RadioField(
        "RAG rating",
        choices=options(
            [(Rag.RED.value, "Red"), (Rag.AMBER.value, "Amber"), (Rag.GREEN.value, "Green")]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose red, amber or green")],
    )
    reason = area("Why this rating?", "What you know now that sets the urgency")
    agencies = SelectMultipleField(
        "Which agencies research it?",
        choices=[],  # the hub's agencies not yet researching it: set by the view
        widget=GovCheckboxesInput(),
    )

    def offer_agencies(self, names: dict[str, str]) -> None:
        self.agencies.choices = options(names.items())


class LawfulBasisForm(VersionedForm):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    kind = RadioField(
        "On what basis may the adult's information be shared?",
        choices=options(
            [
                ("consent", "The adult has given consent"),
                ("other", "Another lawful basis, without consent"),
            ]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose consent or another lawful basis")],
    )
    lawful_basis = SelectField(
        "Lawful basis",
        description="If not consent",
        choices=options(
            [("", "Choose the lawful basis")]
            + [(basis, basis) for basis in LAWFUL_BASES if basis != "Consent"]
        ),
        widget=GovSelect(),
        default="",
    )
    reason = area(
        "Why does this basis apply without consent?",
        "If not consent: for example, why asking for consent would put the adult or others at risk",
    )


class WithdrawConsentForm(VersionedForm):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    reason = area(
        "How and when was consent withdrawn?",
        "For example, 'Told the social worker by phone on 24 November'",
    )


class InterventionForm(Form):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    agency = SelectField("Partner agency", choices=[], widget=GovSelect(), default="")
    description = text("What they will do", 500)

    def is_blank(self) -> bool:
        return not self.agency.data and not self.description.data


class DecisionForm(VersionedForm):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    outcome = RadioField(
        "Outcome",
        choices=options((outcome.value, label) for outcome, label in OUTCOMES.items()),
        widget=RadioInput(),
        validators=[InputRequired("Choose the outcome")],
    )
    referred_to = text(
        "Referred to", 200, "If referring to another agency: the agency or service it goes to"
    )
    rationale = area("Rationale", "Why this outcome, against the borough's threshold of need")
    interventions = FieldList(
        FormField(InterventionForm), min_entries=INTERVENTION_ROWS, max_entries=INTERVENTION_ROWS
    )
    research_open_confirmed = BooleanField(
        "I am deciding before these agencies have finished their research",
        widget=GovCheckboxInput(),
    )


def agency_choices(names: dict[str, str], blank: str) -> list[SelectChoice]:
    return options([("", blank), *names.items()])
