"""A service's refusal shown where the user can fix it: its message on the form field it names.

A domain error carries the path of the input it is about (`field`: "rationale",
"people[1].date_of_birth"); this module finds the form field that path names and gives it the
message, or keeps the message for the top of the form when it names none. It also builds the
GOV.UK error summary, each entry linking to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from wtforms import Field, FieldList, FormField, RadioField, SelectMultipleField
from wtforms.form import BaseForm

from node.errors import DomainError, sentence
from node.referrals.common import ChangedMeanwhile
from node.web.referrals.display import hub_time

PATH = re.compile(r"(?P<name>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<sub>[a-z_]+))?")
FORM_ERRORS = "_refusals"  # the form attribute holding messages that name no field
PROBLEM = "problem"  # the flash category of a refusal shown on the page a redirect leads to


def show_refusal(
    form: BaseForm,
    error: DomainError,
    *,
    rows: Mapping[str, Sequence[int]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Attach the service's message to the field it names.

    `rows` maps a list field to the form rows that were sent to the service, in order, when empty
    rows were left out (the service's `people[1]` is then the form's row `rows["people"][1]`);
    `aliases` renames a service path to the form's (e.g. "lawful_basis" -> "other_basis").
    """
    if isinstance(error, ChangedMeanwhile):
        form_errors(form).append(
            f"{error.what} was changed by {error.by} on {hub_time(error.at)}, after you opened "
            "this page. The page now shows it as it is, with your answers kept: check what "
            "changed, then send them again"
        )
        return
    field = None
    if error.field is not None:
        path = (aliases or {}).get(error.field, error.field)
        field = field_for(form, path, rows or {})
    if field is None:
        form_errors(form).append(sentence(str(error)))
    else:
        field.errors = [*field.errors, sentence(error.message)]


def field_for(form: BaseForm, path: str, rows: Mapping[str, Sequence[int]]) -> Field | None:
    """The field a path such as "account" or "interventions[0].agency" names, if the form has it."""
    found = PATH.fullmatch(path)
    if found is None or found["name"] not in form:
        return None
    field: Field = form[found["name"]]
    if found["index"] is None:
        return field if found["sub"] is None else None
    if not isinstance(field, FieldList):
        return None
    sent = rows.get(found["name"], range(len(field.entries)))
    index = int(found["index"])
    if index >= len(sent):
        return None
    row = field.entries[sent[index]]
    if found["sub"] is None or not isinstance(row, FormField) or found["sub"] not in row.form:
        return None
    subfield: Field = row.form[found["sub"]]
    return subfield


def form_errors(form: BaseForm) -> list[str]:
    """The messages for the form as a whole (they name no field)."""
    held: list[str] | None = getattr(form, FORM_ERRORS, None)
    if held is None:
        held = []
        setattr(form, FORM_ERRORS, held)
    return held


def error_summary(form: BaseForm, anchor: str) -> list[dict[str, str]]:
    """The error summary's entries: each field's first error, linking to what the user must
    change (the first radio or checkbox, the day of a date); the form's own errors link to
    `anchor`, the form's heading."""
    general = [*form_errors(form), *getattr(form, "form_errors", [])]
    entries = [{"text": text, "href": f"#{anchor}"} for text in general]
    for field in _fields(form):
        if field.errors and field.short_name != "csrf_token":
            entries.append({"text": str(field.errors[0]), "href": f"#{target_id(field)}"})
    return entries


def target_id(field: Field) -> str:
    """The id of the element an error summary entry should move the focus to."""
    anchor = getattr(field, "anchor", None)
    if isinstance(anchor, str):
        return anchor  # a field that knows its own target (a date: its first wrong box)
    if isinstance(field, RadioField | SelectMultipleField):
        return field.name  # the GOV.UK macros give the first item the bare name as its id
    if getattr(field, "is_date_input", False):
        return f"{field.name}-day"
    return str(field.id)


def _fields(form: BaseForm) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _fields(entry.form)
                else:
                    yield entry
        elif isinstance(field, FormField):
            yield from _fields(field.form)
        else:
            yield field
