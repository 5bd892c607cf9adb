"""The link review forms: a decision on a candidate link (confirm or reject) and undoing a merge,
each with the reason that is kept with it."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

CONFIRM = "confirm"
REJECT = "reject"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _reason(label: str, hint: str, missing: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        description=hint,
        filters=[_strip],
        validators=[
            DataRequired(missing),
            Length(max=2_000, message="The reason must be 2,000 characters or fewer"),
        ],
    )


class DecisionForm(FlaskForm):
    """Confirm (the two subjects are one person: merge them) or reject (they are not)."""

    reason = _reason(
        "Reason for your decision",
        "What shows they are, or are not, the same person. It is kept with the decision.",
        "Enter the reason for your decision",
    )
    decision = StringField(
        "Decision",
        validators=[AnyOf([CONFIRM, REJECT], message="Choose confirm or reject")],
    )


class UndoForm(FlaskForm):
    reason = _reason(
        "Reason for undoing the merge",
        "It is kept with the merge's history.",
        "Enter the reason for undoing the merge",
    )


def candidate_form(candidate_id: int, *, submitted: bool = False) -> DecisionForm:
    """The form for one candidate link; fields named `candidate-<id>-…` so that many fit on a
    page. Only the submitted one reads the request."""
    if submitted:
        return DecisionForm(prefix=f"candidate-{candidate_id}")
    return DecisionForm(prefix=f"candidate-{candidate_id}", formdata=None)


def undo_form(merge_id: int, *, submitted: bool = False) -> UndoForm:
    if submitted:
        return UndoForm(prefix=f"merge-{merge_id}")
    return UndoForm(prefix=f"merge-{merge_id}", formdata=None)
