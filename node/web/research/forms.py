"""The research page's forms: add one of your agency's items, write a contribution, decide an
item's release, and mark your agency's research complete."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from node.referrals.triage import LAWFUL_BASES
from node.store.models import ID_MAX, Contribution, ReleaseState
from node.web.referrals.forms import RadioInput, VersionedForm, area, options, text

OTHER_BASIS = "other"


class AddItemForm(FlaskForm):
    item_id = IntegerField(
        widget=HiddenInput(),
        validators=[
            InputRequired("Choose an item"),
            NumberRange(min=1, max=ID_MAX, message="Choose an item from the list"),
        ],
    )


class AddByReferenceForm(FlaskForm):
    """One of your agency's items that is not linked to this referral's people, with why."""

    item_ref = text(
        "Your agency's reference for the item", 100, "For example, a CAD or crime number"
    )
    unlinked_reason = area(
        "Why it is relevant to this referral",
        "It is not about anyone named in the referral, so say why the hub needs it",
        limit=2_000,
    )


class ContributionForm(FlaskForm):
    title = text("Title", 300, "For example, 'Domestic incident, 1 October 2026'")
    content = area(
        "What your agency holds",
        "What is relevant to this concern, with dates. Only the necessary minimum",
    )
    agency_reference = text(
        "Your agency's reference (optional)", 100, "So that others can ask about it"
    )


class ReleaseForm(VersionedForm):
    state = RadioField(
        "May this item leave the hub?",
        choices=options(
            [
                (ReleaseState.HELD.value, "Hold it"),
                (ReleaseState.RELEASED.value, "Release it"),
                (ReleaseState.SIGNPOSTED.value, "Signpost it"),
            ]
        ),
        widget=RadioInput(),
        validators=[InputRequired("Choose hold, release or signpost")],
    )
    reason = area(
        "Why?",
        "Why releasing or signposting is necessary and proportionate (needed for both)",
        limit=5_000,
    )
    lawful_basis = SelectField(
        "Lawful basis for the release",
        description="If you release it",
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
    other_basis = text("The other lawful basis", 200, "If you chose 'Another lawful basis'")

    def chosen_basis(self) -> str:
        if self.lawful_basis.data == OTHER_BASIS:
            return self.other_basis.data or ""
        return self.lawful_basis.data or ""


def release_form(item: Contribution, formdata: object = None) -> ReleaseForm:
    """The release decision form of one contribution, showing its current decision."""
    known = item.lawful_basis in LAWFUL_BASES
    return ReleaseForm(
        prefix=f"item-{item.id}",
        formdata=formdata,
        data={
            "version": str(item.version),
            "state": item.release_state.value,
            "reason": item.release_reason,
            "lawful_basis": item.lawful_basis
            if known
            else (OTHER_BASIS if item.lawful_basis else ""),
            "other_basis": "" if known else item.lawful_basis,
        },
    )


class CompleteForm(VersionedForm):
    pass
