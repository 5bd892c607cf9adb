"""The sign-in service: password, then second factor, each rate-limited, recorded and audited.

No Flask here: the views pass in what the request said and get back a session token, or one of
the `REFUSALS`. A refusal's attempt record and audit entry are meant to be committed even though
it raises (`unit_of_work(commit_despite=REFUSALS)`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit, users
from node.access import Actor
from node.auth import attempts, sessions, totp
from node.auth.attempts import TooManyAttempts
from node.auth.totp import CodeRejected
from node.keys import NodeKeys
from node.store.models import User


class PasswordRejected(Exception):
    """Wrong username or password, or a disabled account (deliberately not saying which)."""


class AlreadyEnrolled(Exception):
    """The user already has a second factor; a new one is set up only by an administrator."""


REFUSALS: tuple[type[Exception], ...] = (PasswordRejected, TooManyAttempts, CodeRejected)


@dataclass(frozen=True)
class PasswordAccepted:
    token: str  # of a new session that still needs the second factor
    needs_enrolment: bool


def with_password(
    db: Session,
    username: str,
    password: str,
    address: str,
    now: dt.datetime,
    *,
    replacing: str | None = None,
) -> PasswordAccepted:
    """First step: check the password and start a session awaiting the second factor (ending
    the session `replacing` names, if the browser had one)."""
    _check_allowed(db, username, address, now)
    try:
        actor = users.authenticate(db, username, password)
    except users.SignInFailed:
        attempts.record(db, username, address, succeeded=False, now=now)
        raise PasswordRejected("wrong username or password, or the account is disabled") from None
    user = db.scalars(select(User).where(User.username == actor.username)).one()
    if replacing is not None:
        sessions.end(db, replacing, now)
    token = sessions.start(db, user, now)
    return PasswordAccepted(token=token, needs_enrolment=user.totp_secret is None)


def with_code(
    db: Session,
    keys: NodeKeys,
    signed: sessions.SignedInUser,
    code: str,
    address: str,
    now: dt.datetime,
) -> str:
    """Second step: check the code from the user's app; returns the session's new token."""
    _check_allowed(db, signed.username, address, now)
    user = _locked_user(db, signed.user_id)
    try:
        step = totp.accept_code(db, keys, user, code, now)
    except CodeRejected as exc:
        _code_failed(db, user, address, now, exc)
        raise
    return _complete(db, user, signed.session_id, address, now, step)


def with_new_secret(
    db: Session,
    keys: NodeKeys,
    signed: sessions.SignedInUser,
    secret: str,
    code: str,
    address: str,
    now: dt.datetime,
) -> str:
    """First sign-in: a code from the new secret proves the app has it; store it sealed and
    finish signing in. Returns the session's new token."""
    _check_allowed(db, signed.username, address, now)
    user = _locked_user(db, signed.user_id)
    if user.totp_secret is not None:
        raise AlreadyEnrolled(f"{user.username} already has a second factor")
    try:
        step = totp.matching_step(secret, code, now)
    except CodeRejected as exc:
        _code_failed(db, user, address, now, exc)
        raise
    totp.store_secret(db, keys, user, secret)
    totp.refuse_reuse(user, step)
    audit.record(
        db,
        users.actor_for(user),
        totp.ENROLLED,
        object_ref=f"user:{user.username}",
        detail={"totp_step": step},
    )
    return _complete(db, user, signed.session_id, address, now, step)


def sign_out(
    db: Session, signed: sessions.SignedInUser | None, token: str, now: dt.datetime
) -> None:
    sessions.end(db, token, now)
    if signed is not None:
        audit.record(db, signed.actor, "sign-out", object_ref=f"user:{signed.username}")


def _check_allowed(db: Session, username: str, address: str, now: dt.datetime) -> None:
    try:
        attempts.check_allowed(db, username, address, now)
    except TooManyAttempts as exc:
        audit.record(
            db,
            Actor.system("sign-in"),
            "sign-in.rate-limited",
            object_ref=f"user:{username[: attempts.USERNAME_LENGTH]}",
            detail={"address": address, "by": exc.by, "retry_seconds": exc.seconds},
        )
        raise


def _locked_user(db: Session, user_id: int) -> User:
    """The user's row, locked until commit, so two requests cannot both use one code."""
    return db.get_one(User, user_id, with_for_update=True, populate_existing=True)


def _code_failed(
    db: Session, user: User, address: str, now: dt.datetime, error: CodeRejected
) -> None:
    attempts.record(db, user.username, address, succeeded=False, now=now)
    audit.record(
        db,
        Actor.system("sign-in"),
        "sign-in.second-factor-failed",
        object_ref=f"user:{user.username}",
        detail={"address": address, "why": type(error).__name__},
    )


def _complete(
    db: Session, user: User, session_id: int, address: str, now: dt.datetime, step: int
) -> str:
    attempts.record(db, user.username, address, succeeded=True, now=now)
    audit.record(
        db,
        users.actor_for(user),
        totp.SIGNED_IN,
        object_ref=f"user:{user.username}",
        detail={"address": address, "totp_step": step},
    )
    return sessions.complete_second_factor(db, session_id)
