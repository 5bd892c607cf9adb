"""The administrators' form for revoking a node: a reason, which every peer sees."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Why is this node revoked?",
        description="Every peer sees this reason in the directory. For example: its signing key "
        "was copied off the server on 3 December.",
        widget=GovTextArea(),
        validators=[
            InputRequired("Say why the node is revoked"),
            Length(min=5, max=500, message="Say why in 5 to 500 characters"),
        ],
    )
