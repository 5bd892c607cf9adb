"""Server-side sessions: a random token (kept by the browser), and only its SHA-256 in the store.

A session lives in `web_sessions` and is valid only while it has not been ended, its user is not
disabled, the user's `session_version` still matches (it is bumped when a user is disabled or
signed out everywhere), it has been used within `web.idle_minutes` and it is younger than
`web.absolute_hours`. The web keeps the token in its signed session cookie (node.web.sessions);
everything else lives on the server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.auth.tokens import new_token, token_digest
from node.access import Actor
from node.config import WebSettings
from node.store.models import Agency, Role, User, WebSession


class SessionEnded(Exception):
    """The session cookie names no live session; `reason` says why, for the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"web session is no longer valid: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SignedInUser:
    """Who the current request is from, as the session and the users table say."""

    session_id: int
    user_id: int
    username: str
    display_name: str
    role: Role
    agency_code: str | None
    agency_name: str | None
    second_factor_done: bool
    has_second_factor: bool

    @property
    def actor(self) -> Actor:
        return Actor(username=self.username, role=self.role, agency_code=self.agency_code)


def token_hash(token: str) -> bytes:
    """The digest the store keeps of a token; SessionEnded if the text is not a token."""
    digest = token_digest(token)
    if digest is None:
        raise SessionEnded("unknown")
    return digest


def start(db: Session, user: User, now: dt.datetime) -> str:
    """A new session for a user who has just given the right password; returns its token."""
    token = new_token()
    db.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user.id,
            session_version=user.session_version,
            second_factor_done=False,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.flush()
    return token


LAST_SEEN_STEP = dt.timedelta(minutes=1)


class WriteNeeded(Exception):
    """`resume(..., write=False)` found that the session must be written: marked used or ended."""


def resume(
    db: Session, token: str, web: WebSettings, now: dt.datetime, *, write: bool = True
) -> SignedInUser:
    """The user behind a session token, marking the session used; raise SessionEnded if it is
    not valid (and end it on the server, so it stays ended). With `write=False` nothing is
    written: WriteNeeded is raised instead where a write is due, to do it all again with one."""
    row = db.execute(
        select(WebSession, User, Agency.name)
        .join(User, User.id == WebSession.user_id)
        .outerjoin(Agency, Agency.code == User.agency_code)
        .where(WebSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        raise SessionEnded("unknown")
    web_session, user, agency_name = row
    if web_session.ended_at is not None:
        raise SessionEnded("ended")
    reason = _why_invalid(web_session, user, web, now)
    if reason is not None:
        if not write:
            raise WriteNeeded
        web_session.ended_at = now
        db.flush()
        raise SessionEnded(reason)
    if now - web_session.last_seen_at >= LAST_SEEN_STEP:
        if not write:
            raise WriteNeeded
        # Written at most once a minute: a write (and its fsync) per request would queue every
        # request behind SQLite's one writer. A session may so end up to a minute early, never late.
        web_session.last_seen_at = now
        db.flush()
    return SignedInUser(
        session_id=web_session.id,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        agency_code=user.agency_code,
        agency_name=agency_name,
        second_factor_done=web_session.second_factor_done,
        has_second_factor=user.totp_secret is not None,
    )


def complete_second_factor(db: Session, session_id: int) -> str:
    """Mark a session fully signed in; returns its new token (the old one stops working)."""
    web_session = db.get_one(WebSession, session_id)
    token = new_token()
    web_session.token_hash = token_hash(token)
    web_session.second_factor_done = True
    db.flush()
    return token


def end(db: Session, token: str, now: dt.datetime) -> None:
    """Sign out: end the session on the server (a copy of the cookie is then worthless)."""
    try:
        digest = token_hash(token)
    except SessionEnded:
        return
    web_session = db.scalar(select(WebSession).where(WebSession.token_hash == digest))
    if web_session is not None and web_session.ended_at is None:
        web_session.ended_at = now
        db.flush()


def _why_invalid(
    web_session: WebSession, user: User, web: WebSettings, now: dt.datetime
) -> str | None:
    if user.disabled:
        return "disabled"
    if user.session_version != web_session.session_version:
        return "version"
    if now - web_session.last_seen_at >= dt.timedelta(minutes=web.idle_minutes):
        return "idle"
    if now - web_session.created_at >= dt.timedelta(hours=web.absolute_hours):
        return "absolute"
    return None
