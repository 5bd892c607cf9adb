"""The web side of sessions: the token in Flask's signed session cookie, and who each request is
from (coordinator/auth/sessions.py keeps the rest on the server)."""

from __future__ import annotations

import datetime as dt

from flask import Flask, flash, g, request, session

from coordinator.auth.sessions import SessionEnded, SignedInUser, WriteNeeded, resume
from coordinator.config import WebSettings
from coordinator.store.models import utcnow
from coordinator.web.services import current_coordinator, reading, unit_of_work
from mash_common.web.security import STATIC_ENDPOINTS

TOKEN_KEY = "token"  # noqa: S105 - the session key it is kept under
SECURE_COOKIE = "__Host-mash-coordinator"
PLAIN_COOKIE = "mash-coordinator"
CACHEABLE_ENDPOINTS = STATIC_ENDPOINTS | {"overview.favicon"}

ENDED_MESSAGES = {
    "idle": "You were signed out because you had not used the service for {idle} minutes.",
    "absolute": "You were signed out because you had been signed in for {hours} hours.",
    "version": "You were signed out because your account was changed or signed out elsewhere.",
    "disabled": "You were signed out because your account was disabled.",
}


def configure_cookie(app: Flask, web: WebSettings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME=SECURE_COOKIE if web.secure_cookies else PLAIN_COOKIE,
        SESSION_COOKIE_SECURE=web.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=web.absolute_hours),
    )


def current_user() -> SignedInUser | None:
    user: SignedInUser | None = g.get("user")
    return user


def remember(token: str) -> None:
    session.clear()
    session[TOKEN_KEY] = token


def cookie_token() -> str | None:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def forget() -> None:
    session.clear()


def identify_user() -> None:
    """Before each request: find whose session the cookie names, or forget a dead cookie."""
    g.user = None
    token = cookie_token()
    if token is None or request.endpoint in CACHEABLE_ENDPOINTS:
        return
    web = current_coordinator().config.web
    now = utcnow()
    try:
        try:
            with reading() as db:
                g.user = resume(db, token, web, now, write=False)
        except WriteNeeded:
            with unit_of_work(commit_despite=(SessionEnded,)) as db:
                g.user = resume(db, token, web, now)
    except SessionEnded as exc:
        forget()
        message = ENDED_MESSAGES.get(exc.reason)
        if message is not None:
            flash(message.format(idle=web.idle_minutes, hours=web.absolute_hours), "ended")
