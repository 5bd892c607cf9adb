"""The web side of sessions: the token in Flask's signed session cookie, and who each request is from.

The cookie (signed with a key derived from the node's web key) carries the session token
(`node.auth.sessions` keeps the rest on the server), the CSRF secret and, during enrolment, a
sealed pending TOTP secret.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, flash, g, request, session

from mash_common.web.security import STATIC_ENDPOINTS
from node.auth.sessions import SessionEnded, SignedInUser, WriteNeeded, resume
from node.config import WebSettings
from node.store.models import utcnow
from node.web.services import current_node, reading, unit_of_work

TOKEN_KEY = "token"  # noqa: S105 - the session key it is kept under
SECURE_COOKIE = "__Host-mash-session"
# Static assets and the icon: no session looked up, and they may be cached (no personal data).
CACHEABLE_ENDPOINTS = STATIC_ENDPOINTS | {"home.favicon"}
PLAIN_COOKIE = "mash-session"

# What the sign-in page tells someone whose session ended without their signing out.
ENDED_MESSAGES = {
    "idle": "You were signed out because you had not used the service for {idle} minutes.",
    "absolute": "You were signed out because you had been signed in for {hours} hours.",
    "version": "You were signed out because your account was changed or signed out elsewhere.",
    "disabled": "You were signed out because your account was disabled.",
}


def configure_cookie(app: Flask, web: WebSettings) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, and on HTTPS Secure with a __Host- name."""
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
    """The user of the current request (signed in with or without the second factor), if any."""
    user: SignedInUser | None = g.get("user")
    return user


def remember(token: str) -> None:
    """Start a fresh cookie session carrying this token (nothing from before survives)."""
    session.clear()
    session[TOKEN_KEY] = token


def cookie_token() -> str | None:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def forget() -> None:
    session.clear()


def identify_user() -> None:
    """Before each request: find whose session the cookie names, or forget a dead cookie (and
    tell the sign-in page why, unless the user signed out themselves)."""
    g.user = None
    token = cookie_token()
    if token is None or request.endpoint in CACHEABLE_ENDPOINTS:
        return
    web = current_node().config.web
    now = utcnow()
    try:
        try:
            # Most requests only read the session (it is marked used at most once a minute), so
            # they need not queue behind other requests' write transactions.
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
