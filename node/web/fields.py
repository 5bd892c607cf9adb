"""Form fields are laid out from a cached copy: the GOV.UK macros behind govuk-frontend-wtf's
widgets cost about a millisecond a field, and a field's HTML depends only on its parameters.

Only fields of forms that say so (`reuse_blank_fields = True`: forms whose labels, hints and
choices all come from the code) are cached, and the cache never holds personal data: a blank field
(nothing submitted, no error, no value but its coded default) is kept as it is; a text field with
a typed value is kept with a placeholder in place of the value, which is put in (escaped, as the
macro would) for each response. Fields with errors are laid out afresh. `install` wraps
`GovFormBase.__call__` (govuk-frontend-wtf renders every widget through it) once per process;
apps without a cache of their own render as before.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovInput, GovTextArea
from markupsafe import Markup
from wtforms import Field

EXTENSION = "mash_blank_fields"
MARKER = "reuse_blank_fields"  # a form class attribute: its fields may be cached
TYPED_TEXT = "typed_text_values"  # a widget class attribute: its values are typed text
MAX_ENTRIES = 2048
_render_field = GovFormBase.__call__
_installed = threading.Lock()


class FieldCache:
    """Fields' HTML by widget template and parameters (typed values as placeholders), for one
    app."""

    def __init__(self) -> None:
        self._html: dict[object, Markup] = {}

    def render(self, widget: GovFormBase, field: Field, blank: bool, **kwargs: Any) -> Markup:
        """The field as the widget would lay it out; `field` must be `blank` (is_blank) or have
        only typed text values (takes_typed_text)."""
        params = widget.map_gov_params(field, **kwargs)
        typed: list[str] = []
        if not blank:
            params = _placeholders(params, typed)
        try:
            key = (widget.template, _frozen(params))
        except TypeError:  # a parameter that cannot be compared safely: lay it out afresh
            return _render_field(widget, field, **kwargs)  # type: ignore[no-any-return]
        html = self._html.get(key)
        if html is None:
            html = widget.render(params)
            if len(self._html) >= MAX_ENTRIES:
                self._html.clear()
            self._html[key] = html
        for number, value in enumerate(typed):
            html = html.replace(_placeholder(number), value)  # Markup escapes the value
        return html


def install(app: Flask) -> None:
    """Give `app` a cache of fields (and route govuk-frontend-wtf's widgets through it)."""
    app.extensions[EXTENSION] = FieldCache()
    with _installed:
        if GovFormBase.__call__ is _render_field:
            GovFormBase.__call__ = _call  # type: ignore[method-assign]


def is_blank(field: Field) -> bool:
    """Whether the field shows nothing but what the code gives it: its form is marked, nothing
    was submitted, no error, and no value other than its default."""
    if not _marked(field):
        return False
    if field.errors or field.raw_data:
        return False
    data = field.data
    if data is None or data == "" or data == [] or data is False:
        return True
    default = field.default
    return not callable(default) and data == default


def takes_typed_text(widget: GovFormBase) -> bool:
    """Whether the widget's values are text the user typed, shown as typed (not choices)."""
    return isinstance(widget, GovInput | GovTextArea) or getattr(widget, TYPED_TEXT, False)


def _call(widget: GovFormBase, field: Field, **kwargs: Any) -> Markup:
    cache = current_app.extensions.get(EXTENSION)
    if not isinstance(cache, FieldCache) or not _marked(field):
        return _render_field(widget, field, **kwargs)  # type: ignore[no-any-return]
    blank = is_blank(field)
    if not blank and (field.errors or not takes_typed_text(widget)):
        return _render_field(widget, field, **kwargs)  # type: ignore[no-any-return]
    return cache.render(widget, field, blank, **kwargs)


def _marked(field: Field) -> bool:
    return bool(getattr(getattr(field, "_form", None), MARKER, False))


def _placeholder(number: int) -> str:
    return f"mash-typed-value-{number}-placeholder"


def _placeholders(params: Any, typed: list[str]) -> Any:
    """`params` with each non-empty text "value" replaced by a placeholder (appended to `typed`)."""
    if isinstance(params, dict):
        copied = {}
        for key, value in params.items():
            if key == "value" and type(value) is str and value:
                copied[key] = _placeholder(len(typed))
                typed.append(value)
            else:
                copied[key] = _placeholders(value, typed)
        return copied
    if isinstance(params, list):
        return [_placeholders(value, typed) for value in params]
    return params


def _frozen(value: Any) -> object:
    """A hashable copy of widget parameters that tells HTML (Markup) and text apart."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, Markup):
        return ("html", str(value))
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value).__name__, value)
    raise TypeError(f"cannot key widget parameters on {type(value).__name__}")
