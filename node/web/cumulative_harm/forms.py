"""The dismissal of a cumulative-harm flag: the reason is kept with the flag."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from node.web.referrals.forms import VersionedForm


class DismissForm(VersionedForm):
    reason = TextAreaField(
        "Why is this flag dismissed?",
        widget=GovTextArea(),
        description="For example: the agencies' concerns are already known and being acted on. "
        "It is kept with the flag.",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Enter why the flag is dismissed"),
            Length(max=2_000, message="The reason must be 2,000 characters or fewer"),
        ],
    )
