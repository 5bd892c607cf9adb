"""The node's web sessions: the shared implementation (`mash_common.auth.sessions`) over the
node's store, and who a session's user is on the node (their role and agency)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mash_common.auth.sessions import (
    LAST_SEEN_STEP,
    SessionEnded,
    WebSessions,
    WriteNeeded,
    token_hash,
)
from node.access import Actor
from node.config import WebSettings
from node.store.models import Agency, Role, User, WebSession

__all__ = ["LAST_SEEN_STEP", "SessionEnded", "SignedInUser", "WriteNeeded", "token_hash"]

_SESSIONS = WebSessions(WebSession, User)
start = _SESSIONS.start
complete_second_factor = _SESSIONS.complete_second_factor
end = _SESSIONS.end


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


def resume(
    db: Session, token: str, web: WebSettings, now: dt.datetime, *, write: bool = True
) -> SignedInUser:
    """The user behind a session token, marking the session used; SessionEnded if it is not
    valid; WriteNeeded with `write=False` where a write is due (mash_common.auth.sessions)."""
    web_session, user, agency_name = _SESSIONS.resume(
        db,
        token,
        web,
        now,
        write=write,
        also=(Agency.name,),
        outerjoin=(Agency, Agency.code == User.agency_code),
    )
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
