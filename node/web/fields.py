"""Blank form fields are laid out once per app and reused: the GOV.UK macros behind
govuk-frontend-wtf's widgets cost about a millisecond a field, and a blank field's HTML depends
only on its parameters.

Only fields of forms that say so (`reuse_blank_fields = True`: forms whose labels, hints and
choices all come from the code) and that show nothing anybody typed or the store holds are reused
(no submitted data, no errors, no value but the field's coded default), so the cache never holds
personal data. `install` wraps `GovFormBase.__call__` (govuk-frontend-wtf renders every widget through it)
once per process; apps without a cache of their own render as before.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app
from govuk_frontend_wtf.gov_form_base import GovFormBase
from markupsafe import Markup
from wtforms import Field

EXTENSION = "mash_blank_fields"
MARKER = "reuse_blank_fields"  # a form class attribute: its blank fields may be reused
MAX_ENTRIES = 2048
_render_field = GovFormBase.__call__
_installed = threading.Lock()


class BlankFieldCache:
    """A blank field's HTML by widget template and parameters, for one app."""

    def __init__(self) -> None:
        self._html: dict[object, Markup] = {}

    def render(self, widget: GovFormBase, field: Field, **kwargs: Any) -> Markup:
        params = widget.map_gov_params(field, **kwargs)
        try:
            key = (widget.template, _frozen(params))
        except TypeError:  # a parameter that cannot be compared safely: lay it out afresh
            return widget.render(params)  # type: ignore[no-any-return]
        html = self._html.get(key)
        if html is None:
            html = widget.render(params)
            if len(self._html) >= MAX_ENTRIES:
                self._html.clear()
            self._html[key] = html
        return html


def install(app: Flask) -> None:
    """Give `app` a cache of blank fields (and route govuk-frontend-wtf's widgets through it)."""
    app.extensions[EXTENSION] = BlankFieldCache()
    with _installed:
        if GovFormBase.__call__ is _render_field:
            GovFormBase.__call__ = _call  # type: ignore[method-assign]


def is_blank(field: Field) -> bool:
    """Whether the field shows nothing but what the code gives it: its form is marked, nothing
    was submitted, no error, and no value other than its default."""
    if not getattr(getattr(field, "_form", None), MARKER, False):
        return False
    if field.errors or field.raw_data:
        return False
    data = field.data
    if data is None or data == "" or data == [] or data is False:
        return True
    default = field.default
    return not callable(default) and data == default


def _call(widget: GovFormBase, field: Field, **kwargs: Any) -> Markup:
    cache = current_app.extensions.get(EXTENSION)
    if not isinstance(cache, BlankFieldCache) or not is_blank(field):
        return _render_field(widget, field, **kwargs)  # type: ignore[no-any-return]
    return cache.render(widget, field, **kwargs)


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
