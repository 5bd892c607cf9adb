"""The sign-in service: password, then second factor, each throttled and recorded.

No Flask here: the views pass in what the request said and get back a session token, or one of
the `REFUSALS`, whose attempt records are meant to be committed even though it raises
(`unit_of_work(commit_despite=REFUSALS)`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import events, users
from coordinator.auth import attempts, sessions, totp
from coordinator.keys import CoordinatorKeys
from coordinator.store.models import User
from mash_common.auth.throttle import USERNAME_LENGTH, TooManyAttempts
from mash_common.auth.totp import CodeRejected, matching_step


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
    keys: CoordinatorKeys,
    signed: sessions.SignedInUser,
    code: str,
    address: str,
    now: dt.datetime,
) -> str:
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
    keys: CoordinatorKeys,
    signed: sessions.SignedInUser,
    secret: str,
    code: str,
    address: str,
    now: dt.datetime,
) -> str:
    """First sign-in: a code from the new secret proves the app has it; store it sealed."""
    _check_allowed(db, signed.username, address, now)
    user = _locked_user(db, signed.user_id)
    if user.totp_secret is not None:
        raise AlreadyEnrolled(f"{user.username} already has a second factor")
    try:
        step = matching_step(secret, code, now)
    except CodeRejected as exc:
        _code_failed(db, user, address, now, exc)
        raise
    totp.store_secret(db, keys, user, secret)
    totp.refuse_reuse(user, step)
    events.record(db, users.actor_for(user), "user.totp-enrolled", totp_step=step)
    return _complete(db, user, signed.session_id, address, now, step)


def sign_out(
    db: Session, signed: sessions.SignedInUser | None, token: str, now: dt.datetime
) -> None:
    sessions.end(db, token, now)
    if signed is not None:
        events.record(db, signed.actor, "sign-out")


def _check_allowed(db: Session, username: str, address: str, now: dt.datetime) -> None:
    try:
        attempts.check_allowed(db, username, address, now)
    except TooManyAttempts as exc:
        events.record(
            db,
            f"user:{username[: USERNAME_LENGTH - 5]}",
            "sign-in.rate-limited",
            address=address,
            by=exc.by,
            retry_minutes=exc.minutes,
        )
        raise


def _locked_user(db: Session, user_id: int) -> User:
    return db.get_one(User, user_id, with_for_update=True, populate_existing=True)


def _code_failed(
    db: Session, user: User, address: str, now: dt.datetime, error: CodeRejected
) -> None:
    attempts.record(db, user.username, address, succeeded=False, now=now)
    events.record(
        db, users.actor_for(user), "sign-in.second-factor-failed", why=type(error).__name__
    )


def _complete(
    db: Session, user: User, session_id: int, address: str, now: dt.datetime, step: int
) -> str:
    attempts.record(db, user.username, address, succeeded=True, now=now)
    events.record(db, users.actor_for(user), "sign-in.succeeded", address=address, totp_step=step)
    return sessions.complete_second_factor(db, session_id)
