"""Blank form fields are reused: the page is the same as laid out afresh, and nothing a user
typed (or the store holds) is ever kept."""

from __future__ import annotations

import re

from flask import Flask
from flask_wtf import FlaskForm
from wtforms import StringField

from node.web.fields import EXTENSION, FieldCache, is_blank
from node.web.search.forms import SearchForm
from tests.web.conftest import WebClient, WebNode

TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')


def _cached(app: Flask) -> str:
    cache = app.extensions[EXTENSION]
    assert isinstance(cache, FieldCache)
    return "".join(cache._html.values())  # what the cache holds is the point


def _main(html: str) -> str:
    return TOKEN.sub(r'\1"', html[html.index("<main") : html.index("</main>")])


def test_pages_with_reused_fields_are_the_pages_laid_out_afresh(
    app: Flask, web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["manager"])
    first = web.get("/search").response.get_data(as_text=True)
    assert _cached(app), "the blank search form's fields were not kept"
    reused = web.get("/search").response.get_data(as_text=True)
    cache = app.extensions.pop(EXTENSION)
    try:
        afresh = web.get("/search").response.get_data(as_text=True)
    finally:
        app.extensions[EXTENSION] = cache
    assert _main(first) == _main(reused) == _main(afresh)


def test_typed_values_and_errors_are_never_kept(
    app: Flask, web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["manager"])
    form = web.get("/search")
    page = web.submit(
        form,
        {"forenames": "Zebedee", "surname": "Quillfeather", "purpose": "MASH-2026-0099"},
        status=200,
    )
    assert "Quillfeather" in page.response.get_data(as_text=True)
    errors = web.submit(form, {"forenames": "Zebedee", "purpose": ""}, status=200)
    assert errors.error_messages
    kept = _cached(app)
    for typed in ("Zebedee", "Quillfeather", "MASH-2026-0099", "govuk-error-message"):
        assert typed not in kept


def test_only_marked_forms_with_nothing_in_them_are_blank(app: Flask) -> None:
    class Unmarked(FlaskForm):
        name = StringField("Name")

    with app.test_request_context("/search", method="POST", data={"surname": "Quillfeather"}):
        submitted = SearchForm()
        assert not is_blank(submitted.surname)
        assert is_blank(submitted.postcode)
        assert not is_blank(Unmarked(formdata=None).name)
        assert is_blank(SearchForm(formdata=None).surname)


def test_typed_values_are_put_in_escaped_exactly_where_the_macros_put_them(
    app: Flask, web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["manager"])
    form = web.get("/search")
    typed = {
        "forenames": 'Zeb <b>"O\'Brien"</b> & co',
        "surname": "Quill&amp;feather",
        "date_of_birth-day": "3",
        "date_of_birth-month": "11",
        "date_of_birth-year": "2015",
        "purpose": "MASH-2026-0099 {{ 7 * 7 }}",
    }
    page = web.submit(form, typed, status=200)
    assert page.error_messages == []  # fields with errors are laid out afresh, not cached
    cached = page.response.get_data(as_text=True)
    cache = app.extensions.pop(EXTENSION)
    try:
        afresh = web.submit(form, typed, status=200).response.get_data(as_text=True)
    finally:
        app.extensions[EXTENSION] = cache
    assert _main(cached) == _main(afresh)
    assert "Zeb &lt;b&gt;" in cached
    kept = _cached(app)
    assert "Zeb" not in kept and "Quill" not in kept and "{{ 7" not in kept
    assert "mash-typed-value-0-placeholder" in kept  # the typed fields came from the cache
