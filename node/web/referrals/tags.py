"""Small pieces the front-door pages share: tags for RAG, status and release state, the time left,
and concern categories (Jinja globals, in Python because tables call them on every row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Blueprint
from markupsafe import Markup, escape

from node.matching.key_classes import label as key_label
from node.referrals.deadlines import Clock, describe_remaining
from node.store.models import BoroughCheck, Rag, ReferralStatus, ReleaseState

_RAG_CLASSES = {
    Rag.RED: "govuk-tag--red",
    Rag.AMBER: "govuk-tag--orange",
    Rag.GREEN: "govuk-tag--green",
}
_STATUS_TAGS = {
    ReferralStatus.AWAITING_TRIAGE: ("govuk-tag--grey", "Awaiting triage"),
    ReferralStatus.AWAITING_LAWFUL_BASIS: ("govuk-tag--yellow", "Awaiting lawful basis"),
    ReferralStatus.IN_RESEARCH: ("govuk-tag--blue", "In research"),
    ReferralStatus.DECIDED: ("govuk-tag--green", "Decided"),
}
_RELEASE_TAGS = {
    ReleaseState.HELD: ("moj-badge--grey", "Held"),
    ReleaseState.RELEASED: ("moj-badge--green", "Released"),
    ReleaseState.SIGNPOSTED: ("moj-badge--blue", "Signposted"),
}


def rag_tag(rag: Rag | None) -> Markup:
    if rag is None:
        return Markup('<strong class="govuk-tag govuk-tag--grey">Not yet rated</strong>')
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(
        _RAG_CLASSES[rag], rag.value.capitalize()
    )


def status_tag(status: ReferralStatus) -> Markup:
    classes, text = _STATUS_TAGS[status]
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(classes, text)


def release_tag(state: ReleaseState) -> Markup:
    classes, text = _RELEASE_TAGS[state]
    return Markup('<strong class="moj-badge {}">{}</strong>').format(classes, text)


def time_left(clock: Clock | None, stacked: bool = False) -> Markup:
    """The time left before the decision is due, with a badge when it is overdue or nearly so
    (`stacked`: the badge on a line of its own, for table cells)."""
    if clock is None:
        return Markup("Rate it to start the clock")
    if clock.breached:
        badge = Markup('<strong class="moj-badge moj-badge--red">Overdue</strong>')
    elif clock.near_breach:
        badge = Markup('<strong class="moj-badge moj-badge--black">Due soon</strong>')
    else:
        return escape(describe_remaining(clock.remaining))
    return Markup('{}{}    <span class="govuk-!-font-weight-bold">{}</span>').format(
        badge, Markup("<br>") if stacked else "", describe_remaining(clock.remaining)
    )


def category_list(codes: Iterable[str], categories: Mapping[str, str]) -> Markup:
    """The concern categories' names, comma-separated."""
    return Markup(", ").join(escape(categories.get(code, code)) for code in codes)


_ANSWER_TAGS = {
    "holds": ("govuk-tag--red", "Holds information"),
    "holds-nothing": ("govuk-tag--grey", "Holds nothing"),
    "not-answered": ("govuk-tag--yellow", "Did not answer"),
    "refused": ("govuk-tag--orange", "Refused"),
}


def borough_answer_tag(check: BoroughCheck) -> Markup:
    """A borough's answer as a tag; a weak match says "May hold information"."""
    classes, text = _ANSWER_TAGS.get(check.outcome, ("govuk-tag--grey", check.outcome))
    if check.outcome == "holds" and check.strength == "probable":
        classes, text = "govuk-tag--orange", "May hold information"
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(classes, text)


def borough_answer_words(check: BoroughCheck) -> str:
    """What the tag does not say: the key class that matched, or why there was no answer."""
    if check.outcome == "holds":
        how = "only a weaker" if check.strength == "probable" else f"a {check.strength}"
        return f"matched on {how} key: {key_label(check.key_class)}"
    return check.detail


GLOBALS = {
    "borough_answer_tag": borough_answer_tag,
    "borough_answer_words": borough_answer_words,
    "rag_tag": rag_tag,
    "status_tag": status_tag,
    "release_tag": release_tag,
    "time_left": time_left,
    "category_list": category_list,
}


def install_tags(blueprint: Blueprint) -> None:
    """Give the app these globals when `blueprint` is registered."""
    for name, function in GLOBALS.items():
        blueprint.add_app_template_global(function, name)
