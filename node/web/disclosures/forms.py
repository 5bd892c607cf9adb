"""The disclosure pages' forms: asking another borough, matching its request to a local subject,
an agency's decision on one of its items, and the manager's answer or refusal."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired

from node.referrals.triage import LAWFUL_BASES
from node.store.models import Rag, ReleaseState
from node.web.referrals.forms import RadioInput, VersionedForm, area, options, text

OTHER_BASIS = "other"
NOBODY = "nobody"


def basis_field(label: str, description: str = "") -> SelectField:
    return SelectField(
        label,
        description=description,
        choices=options(
            [
                ("", "Choose the lawful basis"),
                *((basis, basis) for basis in LAWFUL_BASES),
                (OTHER_BASIS, "Another lawful basis"),
            ]
        ),
        widget=GovSelect(),
        default="",
    )


class WithBasis:
    lawful_basis: SelectField
    other_basis: object

    def chosen_basis(self) -> str:
        if self.lawful_basis.data == OTHER_BASIS:
            return str(self.other_basis.data or "")  # type: ignore[attr-defined]
        return str(self.lawful_basis.data or "")


class AskForm(WithBasis, FlaskForm):
    reuse_blank_fields = True
    reason = area(
        "Why is it necessary and proportionate to ask?",
        "The holding borough's agencies read this to decide what to release",
        limit=5_000,
    )
    lawful_basis = basis_field("Lawful basis for asking")
    other_basis = text("The other lawful basis", 200, "If you chose 'Another lawful basis'")
    urgency = RadioField(
        "Urgency",
        description="Set from the referral's RAG rating: it sets the holding hub's deadline",
        choices=options(
            [
                (Rag.RED.value, "Red: within hours, around the clock"),
                (Rag.AMBER.value, "Amber: within a working day"),
                (Rag.GREEN.value, "Green: within three working days"),
            ]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose red, amber or green")],
    )


class WithdrawForm(VersionedForm):
    reason = area("Why withdraw the request?", "The holding borough is told", limit=500)


class MatchForm(VersionedForm):
    subject = RadioField(
        "Who is the request about?",
        choices=[],  # the candidates, and "nobody": set by the view
        widget=RadioInput(),
        validators=[InputRequired("Choose the person, or say that nobody here matches")],
    )


class ItemDecisionForm(WithBasis, VersionedForm):
    state = RadioField(
        "May this item go to the asking borough?",
        choices=options(
            [
                (ReleaseState.RELEASED.value, "Release it"),
                (ReleaseState.SIGNPOSTED.value, "Decline: send a signpost to your agency only"),
            ]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose release or decline")],
    )
    reason = area(
        "Why?", "Why releasing, or only signposting, is necessary and proportionate", limit=5_000
    )
    lawful_basis = basis_field("Lawful basis for the release", "If you release it")
    other_basis = text("The other lawful basis", 200, "If you chose 'Another lawful basis'")


class AnswerForm(VersionedForm):
    note = area(
        "A note to the asking hub (optional)",
        "For example, who to call about the signposted items",
        limit=2_000,
    )


class DeclineForm(VersionedForm):
    reason = area("Why is the whole request declined?", "The asking hub reads this", limit=2_000)
