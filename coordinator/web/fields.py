"""Form fields of the coordinator's pages, in the GOV.UK Design System's patterns: a date typed in
three boxes, whole numbers and amounts that refuse what is not a number, and the hidden version
every edit carries. The forms check what a browser sends; the services check the rest."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import Field, HiddenField, StringField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

DATE_PARTS = ("day", "month", "year")


class DatePartsWidget(GovFormBase):
    """GOV.UK date input (boxes named `<field>-day` and so on), the wrong boxes marked."""

    template = "fields/date_input.html"

    def map_gov_params(self, field: DateField, **kwargs: Any) -> dict[str, Any]:
        marked = field.bad_parts or (DATE_PARTS if field.errors else ())
        params: dict[str, Any] = {
            "id": field.id,
            "namePrefix": field.name,
            "fieldset": {
                "legend": {"text": field.label.text, "classes": "govuk-fieldset__legend--s"}
            },
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
                    "inputmode": "numeric",
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


class DateField(Field):
    """A date typed in three boxes; `data` is the date, or None when all three are blank (the
    service says whether one is needed)."""

    widget = DatePartsWidget()

    def __init__(self, label: str, *, required: str | None = None, **kwargs: Any) -> None:
        """`required`: the message when all three boxes are blank (None: a blank date is
        allowed here, and the service says whether it is needed)."""
        super().__init__(label, **kwargs)
        self.day = self.month = self.year = ""
        self.bad_parts: tuple[str, ...] = ()
        self.required = required

    def process(
        self,
        formdata: Any,
        data: Any = unset_value,
        extra_filters: Sequence[Callable[[Any], Any]] | None = None,
    ) -> None:
        self.process_errors = []
        self.object_data = data if isinstance(data, dt.date) else None
        self.data = self.object_data
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in DATE_PARTS):
            self.day, self.month, self.year = (
                str(formdata.get(f"{self.name}-{part}", "")).strip() for part in DATE_PARTS
            )
            self.raw_data = [self.day, self.month, self.year]
            self.data = None
        elif isinstance(self.data, dt.date):
            self.day, self.month, self.year = (
                str(self.data.day),
                str(self.data.month),
                str(self.data.year),
            )

    @property
    def anchor(self) -> str:
        return f"{self.id}-{(self.bad_parts or DATE_PARTS)[0]}"

    def pre_validate(self, form: Any) -> None:
        if self.raw_data is None:
            return
        self.data = None
        self.bad_parts = ()
        label = self.label.text
        parts = {"day": self.day, "month": self.month, "year": self.year}
        missing = tuple(part for part in DATE_PARTS if not parts[part])
        if len(missing) == len(DATE_PARTS):
            if self.required:
                self._refuse(self.required, ())
            return
        if missing:
            self._refuse(f"{label} must include a {' and '.join(missing)}", missing)
        not_numbers = tuple(
            p for p in DATE_PARTS if not (parts[p].isascii() and parts[p].isdigit())
        )
        if not_numbers:
            self._refuse(f"{label} must be a real date", not_numbers)
        if len(self.year) != 4:
            self._refuse("Year must include 4 numbers", ("year",))
        try:
            self.data = dt.date(int(self.year), int(self.month), int(self.day))
        except ValueError:
            self._refuse(f"{label} must be a real date", ())

    def _refuse(self, message: str, parts: tuple[str, ...]) -> None:
        self.bad_parts = parts
        raise StopValidation(message)


class NumberField(StringField):
    """A number typed as text (GOV.UK: no type=number), with commas, spaces and a £ allowed;
    `data` stays the text, `number` the value (None when blank)."""

    widget = GovTextInput()

    def __init__(
        self, label: str, *, whole: bool = True, required: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.whole = whole
        self.required = required
        self.number: float | int | None = None

    def process_data(self, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.data = f"{value:,}" if self.whole else f"{value:g}"
        else:
            self.data = value if isinstance(value, str) else ""

    def pre_validate(self, form: Any) -> None:
        text = re.sub(r"[\s,£]", "", self.data or "")
        self.number = None
        if not text:
            if self.required:
                raise StopValidation(self.required)
            return
        pattern = r"\d{1,12}" if self.whole else r"\d{1,9}(\.\d{1,4})?"
        if not re.fullmatch(pattern, text):
            kind = "a whole number" if self.whole else "a number"
            raise StopValidation(
                f"{self.label.text} must be {kind}, like {'12,000' if self.whole else '2.5'}"
            )
        self.number = int(text) if self.whole else float(text)


class VersionField(HiddenField):
    """The version of the thing the form was made from: a change made from an older one is
    refused by the service, with who changed it and when."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("version", **kwargs)

    @property
    def version(self) -> int | None:
        text = (self.data or "").strip() if isinstance(self.data, str) else self.data
        if isinstance(text, int):
            return text
        return int(text) if text and str(text).isdigit() else None
