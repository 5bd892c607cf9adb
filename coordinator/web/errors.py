"""Error pages: each HTTP error, and an expired form (CSRF), rendered as `error/<code>.html`."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from coordinator.errors import DomainError, ErrorCode

PAGES = (400, 403, 404, 429, 500)


def render_error(code: int, **context: Any) -> Response:
    return make_response(render_template(f"error/{code}.html", **context), code)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _form_expired)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _not_found)


def _form_expired(_error: CSRFError) -> Response:
    return render_error(400, form_expired=True)


def _not_found(error: DomainError) -> Response:
    """A service said there is no such thing (a borough, a milestone): 404. Any other domain
    error a view did not handle is a bug: re-raised, so it is a 500."""
    if error.code is ErrorCode.NOT_FOUND:
        return render_error(404)
    raise error


def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 405:
        return make_response(render_template("error/404.html"), 405)
    if code not in PAGES:
        code = 400 if 400 <= code < 500 else 500
    return render_error(code)
