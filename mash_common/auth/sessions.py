"""Server-side sessions: a random token (kept by the browser), and only its SHA-256 in the store.
One implementation for the node and the coordinator, each passing its store's session and user
models and building its own signed-in user from what `resume` finds.

A session is valid only while it has not been ended, its user is not disabled, the user's
`session_version` still matches (it is bumped when a user is disabled or signed out everywhere),
it has been used within `idle_minutes` and it is younger than `absolute_hours`. The web keeps the
token in its signed session cookie; everything else lives on the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.auth.tokens import new_token, token_digest

# Written at most once a minute: a write (and its fsync) per request would queue every request
# behind SQLite's one writer. A session may so end up to a minute early, never late.
LAST_SEEN_STEP = dt.timedelta(minutes=1)


class SessionLimits(Protocol):
    idle_minutes: int
    absolute_hours: int


class SessionEnded(Exception):
    """The session cookie names no live session; `reason` says why, for the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"web session is no longer valid: {reason}")
        self.reason = reason


class WriteNeeded(Exception):
    """`resume(..., write=False)` found that the session must be written: marked used or ended."""


def token_hash(token: str) -> bytes:
    """The digest the store keeps of a token; SessionEnded if the text is not a token."""
    digest = token_digest(token)
    if digest is None:
        raise SessionEnded("unknown")
    return digest


class WebSessions:
    """The sessions of one store: `session_model` (token_hash, user_id, session_version,
    second_factor_done, created_at, last_seen_at, ended_at) and `user_model` (id, disabled,
    session_version)."""

    def __init__(self, session_model: Any, user_model: Any) -> None:
        self._session = session_model
        self._user = user_model

    def start(self, db: Session, user: Any, now: dt.datetime) -> str:
        """A new session for a user who has just given the right password; returns its token."""
        token = new_token()
        db.add(
            self._session(
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

    def resume(
        self,
        db: Session,
        token: str,
        limits: SessionLimits,
        now: dt.datetime,
        *,
        write: bool = True,
        also: tuple[Any, ...] = (),
        outerjoin: tuple[Any, Any] | None = None,
    ) -> tuple[Any, ...]:
        """The live session behind a token and its user (and the `also` columns, through the
        `outerjoin` (table, on-clause) if given), marking the session used; SessionEnded if it
        is not valid (ending it on the server, so it stays ended). With `write=False` nothing is
        written: WriteNeeded is raised instead where a write is due, to do it all again with one.
        """
        sessions, users = self._session, self._user
        query = select(sessions, users, *also).join(users, users.id == sessions.user_id)
        if outerjoin is not None:
            query = query.outerjoin(*outerjoin)
        row = db.execute(query.where(sessions.token_hash == token_hash(token))).one_or_none()
        if row is None:
            raise SessionEnded("unknown")
        web_session, user = row[0], row[1]
        if web_session.ended_at is not None:
            raise SessionEnded("ended")
        reason = _why_invalid(web_session, user, limits, now)
        if reason is not None:
            if not write:
                raise WriteNeeded
            web_session.ended_at = now
            db.flush()
            raise SessionEnded(reason)
        if now - web_session.last_seen_at >= LAST_SEEN_STEP:
            if not write:
                raise WriteNeeded
            web_session.last_seen_at = now
            db.flush()
        return tuple(row)

    def complete_second_factor(self, db: Session, session_id: int) -> str:
        """Mark a session fully signed in; returns its new token (the old one stops working)."""
        web_session = db.get_one(self._session, session_id)
        token = new_token()
        web_session.token_hash = token_hash(token)
        web_session.second_factor_done = True
        db.flush()
        return token

    def end(self, db: Session, token: str, now: dt.datetime) -> None:
        """Sign out: end the session on the server (a copy of the cookie is then worthless)."""
        digest = token_digest(token)
        if digest is None:
            return
        web_session = db.scalar(select(self._session).where(self._session.token_hash == digest))
        if web_session is not None and web_session.ended_at is None:
            web_session.ended_at = now
            db.flush()


def _why_invalid(
    web_session: Any, user: Any, limits: SessionLimits, now: dt.datetime
) -> str | None:
    if user.disabled:
        return "disabled"
    if user.session_version != web_session.session_version:
        return "version"
    if now - web_session.last_seen_at >= dt.timedelta(minutes=limits.idle_minutes):
        return "idle"
    if now - web_session.created_at >= dt.timedelta(hours=limits.absolute_hours):
        return "absolute"
    return None
