"""A service's refusal shown where the user can fix it: its message on the form field it names
(or above the form), and the GOV.UK error summary linking each message to its field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from wtforms import Field, RadioField, SelectMultipleField
from wtforms.form import BaseForm

from coordinator.errors import DomainError, sentence

FORM_ERRORS = "_refusals"
PROBLEM = "problem"  # the flash category of a refusal shown after a redirect


def show_refusal(
    form: BaseForm, error: DomainError, *, aliases: Mapping[str, str] | None = None
) -> None:
    """Attach the service's message to the field it names (a service's field name may differ
    from the form's: `aliases`), or keep it for the top of the form."""
    name = (aliases or {}).get(error.field or "", error.field)
    field = form._fields.get(name) if name and name != "csrf_token" else None  # type: ignore[attr-defined]
    if field is None:
        form_errors(form).append(sentence(error.message if error.field is None else str(error)))
    else:
        field.errors = [*field.errors, f"{field.label.text}: {error.message}"]


def form_errors(form: BaseForm) -> list[str]:
    held: list[str] | None = getattr(form, FORM_ERRORS, None)
    if held is None:
        held = []
        setattr(form, FORM_ERRORS, held)
    return held


def error_summary(form: BaseForm, anchor: str = "main-content") -> list[dict[str, str]]:
    """The error summary's entries: each field's first error linking to it; the form's own
    errors link to `anchor`."""
    entries = [{"text": text, "href": f"#{anchor}"} for text in form_errors(form)]
    for field in _fields(form):
        if field.errors and field.short_name != "csrf_token":
            entries.append({"text": str(field.errors[0]), "href": f"#{target_id(field)}"})
    return entries


def target_id(field: Field) -> str:
    anchor = getattr(field, "anchor", None)
    if isinstance(anchor, str):
        return anchor
    if isinstance(field, RadioField | SelectMultipleField):
        return field.name
    return str(field.id)


def _fields(form: BaseForm) -> Iterator[Field]:
    yield from form
