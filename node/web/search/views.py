"""Search pages: find subjects and view one, always with a purpose, always audited.

Searches are posted (with the CSRF token) and the results rendered in the response, never
redirected: names and dates of birth must not end up in URLs, browser history or server logs.
The search service decides who sees what; these views only ask it and lay out its answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from node import access
from node.access import Actor
from node.errors import sentence
from node.involvement import Involvement
from node.search import SearchError, SearchResults, SubjectView, search, view_subject
from node.subjects import SubjectError
from node.web.permissions import roles
from node.web.refusals import error_summary
from node.web.search.forms import PurposeForm, SearchForm
from node.web.search.present import SubjectCard, agency_directory, subject_card
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("search", __name__, template_folder="templates")


@blueprint.route("/search", methods=["GET", "POST"])
@roles(access.SEARCHERS)
def index() -> ResponseReturnValue:
    form = SearchForm()
    results: SearchResults | None = None
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                results = search(db, _actor(), form.query(), form.purpose.data or "")
        except SearchError as exc:
            form.show_search_error(exc)
    return render_template(
        "search/index.html",
        form=form,
        errors=error_summary(form, SearchForm.GENERAL_ANCHOR),
        searched=results is not None,
        cards=_cards(results.subjects) if results else [],
        truncated=bool(results and results.truncated),
        own_agency=_own_agency_name(),
    )


@blueprint.route("/search/subjects/<id:subject_id>", methods=["GET", "POST"])
@roles(access.SEARCHERS)
def subject(subject_id: int) -> ResponseReturnValue:
    """GET asks why (nothing personal is shown); POST with the purpose shows the subject."""
    form = PurposeForm()
    card: SubjectCard | None = None
    involved: tuple[Involvement, ...] = ()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                view = view_subject(db, _actor(), subject_id, form.purpose.data or "")
        except SubjectError:
            abort(404)
        except SearchError as exc:  # only the purpose can be wrong here
            form.purpose.errors = [*form.purpose.errors, sentence(exc.message)]
        else:
            (card,) = _cards([view])
            involved = view.involvement
    return render_template(
        "search/subject.html",
        involved=involved,
        form=form,
        errors=error_summary(form, "purpose"),
        subject_id=subject_id,
        card=card,
        own_agency=_own_agency_name(),
    )


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets nobody here without a session
        raise RuntimeError("search page reached without a signed-in user")
    return user.actor


def _own_agency_name() -> str | None:
    user = current_user()
    if user is None or access.own_agency(user.actor) is None:
        return None
    return user.agency_name or user.agency_code


def _cards(views: Iterable[SubjectView]) -> list[SubjectCard]:
    agencies = agency_directory(current_node().config.agencies)
    own = access.own_agency(_actor())
    return [subject_card(view, agencies, own) for view in views]
