"""The search forms: whom to look for (names, date of birth, postcode, NHS number) and why.

The forms check only what a browser sends (a date in three boxes, a purpose given); what a search
may be asked is the search service's rule, and its refusals are shown on the field they name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import Field, StringField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Length, StopValidation

from node.errors import sentence
from node.search import SearchError, SearchQuery

DATE_PARTS = ("day", "month", "year")
PURPOSE_LABEL = "Purpose or referral reference"
PURPOSE_HINT = (
    "For example MASH-2026-0001, or why you need to look. It is kept in the audit log with what "
    "you see."
)
PURPOSE_MISSING = "Enter the purpose or the referral reference"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DatePartsWidget(GovFormBase):
    """GOV.UK date input (day, month and year boxes named `<field>-day` and so on), with the
    boxes that are wrong marked as in error."""

    template = "search/date_input.html"
    typed_text_values = True  # the day, month and year as typed (node.web.fields)

    def map_gov_params(self, field: DateOfBirthField, **kwargs: Any) -> dict[str, Any]:
        marked = field.bad_parts or (DATE_PARTS if field.errors else ())
        params: dict[str, Any] = {
            "id": field.id,
            "namePrefix": field.name,
            "fieldset": {"legend": {"text": field.label.text}},
            "items": [
                {
                    "name": part,
                    "label": part.capitalize(),
                    "classes": (
                        "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
                    )
                    + (" govuk-input--error" if part in marked else ""),
                    "value": getattr(field, part),
                    "autocomplete": "off",
                }
                for part in DATE_PARTS
            ],
        }
        if field.description:
            params["hint"] = {"text": field.description}
        if field.errors:
            params["errorMessage"] = {"text": field.errors[0]}
        if "params" in kwargs:
            params = self.merge_params(params, kwargs["params"])
        return params


class DateOfBirthField(Field):
    """A date typed in three boxes; `data` is the date, or None when all three are blank."""

    widget = DatePartsWidget()

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.day = self.month = self.year = ""
        self.bad_parts: tuple[str, ...] = ()

    def process(
        self,
        formdata: Any,
        data: Any = unset_value,
        extra_filters: Sequence[Callable[[Any], Any]] | None = None,
    ) -> None:
        self.process_errors = []
        self.object_data = None
        self.data = None
        if formdata is not None:
            self.day, self.month, self.year = (
                str(formdata.get(f"{self.name}-{part}", "")).strip() for part in DATE_PARTS
            )
            self.raw_data = [self.day, self.month, self.year]

    @property
    def anchor(self) -> str:
        """The id of the box an error message should take the user to."""
        return f"{self.id}-{(self.bad_parts or DATE_PARTS)[0]}"

    def pre_validate(self, form: Any) -> None:
        self.data = None
        self.bad_parts = ()
        label = self.label.text
        parts = {"day": self.day, "month": self.month, "year": self.year}
        missing = tuple(part for part in DATE_PARTS if not parts[part])
        if len(missing) == len(DATE_PARTS):
            return
        if missing:
            self._refuse(f"{label} must include a {' and '.join(missing)}", missing)
        not_numbers = tuple(part for part in DATE_PARTS if not _digits(parts[part]))
        if not_numbers:
            self._refuse(f"{label} must be a real date", not_numbers)
        if len(self.year) != 4:
            self._refuse("Year must include 4 numbers", ("year",))
        born = _real_date(int(self.year), int(self.month), int(self.day))
        if born is None:
            self._refuse(f"{label} must be a real date", ())
        elif born > dt.date.today():
            self._refuse(f"{label} must be in the past", ())
        self.data = born

    def _refuse(self, message: str, parts: tuple[str, ...]) -> None:
        self.bad_parts = parts
        raise StopValidation(message)


def _real_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _text(label: str, limit: int, description: str = "") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        description=description,
        filters=[_strip],
        validators=[Length(max=limit, message=f"{label} must be {limit} characters or fewer")],
    )


def _purpose() -> StringField:
    return StringField(
        PURPOSE_LABEL,
        widget=GovTextInput(),
        description=PURPOSE_HINT,
        filters=[_strip],
        validators=[
            DataRequired(PURPOSE_MISSING),
            Length(max=500, message="Purpose must be 500 characters or fewer"),
        ],
    )


class SearchForm(FlaskForm):
    reuse_blank_fields = True  # its labels, hints and choices come from the code
    forenames = _text("Forenames", 200)
    surname = _text(
        "Surname",
        200,
        "Spelling need not be exact: names that sound alike, aliases, and forenames and "
        "surname the wrong way round are found too",
    )
    date_of_birth = DateOfBirthField("Date of birth", description="For example, 14 3 2015")
    postcode = _text("Postcode", 20)
    nhs_number = _text("NHS number", 20, "10 digits, for example 943 476 5919")
    purpose = _purpose()

    GENERAL_ANCHOR = "surname"

    def query(self) -> SearchQuery:
        born = self.date_of_birth.data
        return SearchQuery(
            forenames=self.forenames.data or "",
            surname=self.surname.data or "",
            date_of_birth=born.isoformat() if born else "",
            postcode=self.postcode.data or "",
            nhs_number=self.nhs_number.data or "",
        )

    def show_search_error(self, error: SearchError) -> None:
        """Put the service's refusal on the field it names (its message starts with the field's
        name), or above the form when it names none."""
        name = error.field
        field = self._fields.get(name) if name and name != "csrf_token" else None
        if field is None:
            self.form_errors.append(sentence(str(error)))
            return
        field.errors = [*field.errors, f"{field.label.text}: {error.message}"]


class PurposeForm(FlaskForm):
    """Why a subject is being looked at (audited with the view)."""

    reuse_blank_fields = True  # its labels, hints and choices come from the code

    purpose = _purpose()
