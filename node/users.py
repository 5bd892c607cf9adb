"""Hub users: who they are, their role and agency, argon2id passwords, and signing in."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.auth import passwords
from mash_common.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from node import audit
from node.access import AccessDenied, Actor, require_admin, require_oversight, role_needs_agency
from node.errors import DomainError, ErrorCode
from node.store.models import Agency, Role, User

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,79}$")


class UserError(DomainError):
    """A user cannot be created or changed as asked (`field` says which input)."""


class SignInFailed(Exception):
    """Wrong username or password, or a disabled account (deliberately not saying which)."""


def check_password_rules(username: str, password: str) -> None:
    try:
        passwords.check_password_rules(username, password)
    except passwords.PasswordRuleBroken as exc:
        raise UserError(exc.message, field="password") from None


def add_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    agency_code: str | None = None,
) -> User:
    """Create a user. Agency professionals belong to exactly one active agency; others to none."""
    require_admin(actor)
    return _create(session, actor, username, display_name, role, password, agency_code)


def create_first_admin(
    session: Session, *, username: str, display_name: str, password: str
) -> User | None:
    """At `init`: create the first node administrator unless one already exists."""
    exists = session.scalar(select(User.id).where(User.role == Role.NODE_ADMIN).limit(1))
    if exists is not None:
        return None
    return _create(
        session, Actor.system("init"), username, display_name, Role.NODE_ADMIN, password, None
    )


def _create(
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    agency_code: str | None,
) -> User:
    if not _USERNAME.match(username):
        raise UserError(
            "3-80 characters, lower-case letters, digits, '.', '_' or '-', starting with a letter",
            field="username",
        )
    if not display_name.strip():
        raise UserError("must not be empty", field="name")
    if role_needs_agency(role):
        if not agency_code:
            raise UserError("an agency professional must belong to an agency", field="agency")
        agency = session.get(Agency, agency_code)
        if agency is None or not agency.active:
            raise UserError(f"{agency_code!r} is not an agency of this hub", field="agency")
    elif agency_code:
        raise UserError(
            f"only agency professionals belong to an agency, not {role.value}", field="agency"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"{username!r} is already taken", field="username")
    check_password_rules(username, password)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        agency_code=agency_code,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.add",
        object_ref=f"user:{username}",
        detail={"role": role.value, "agency": agency_code or ""},
    )
    return user


def set_disabled(session: Session, actor: Actor, username: str, disabled: bool) -> User:
    """Disable or re-enable a user; disabling ends every session they hold."""
    require_admin(actor)
    user = _get(session, username)
    if disabled and user.username == actor.username:
        raise UserError("you cannot disable your own account", field="username")
    user.disabled = disabled
    user.session_version += 1
    session.flush()
    audit.record(
        session, actor, "user.disable" if disabled else "user.enable", object_ref=f"user:{username}"
    )
    return user


def reset_second_factor(session: Session, actor: Actor, username: str) -> User:
    """A user lost their authenticator: clear their TOTP secret and end their sessions; they
    set up a new one at their next sign-in."""
    require_admin(actor)
    user = _get(session, username)
    user.totp_secret = None
    user.totp_last_step = None
    user.session_version += 1
    session.flush()
    audit.record(session, actor, "user.reset-second-factor", object_ref=f"user:{username}")
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """Every user, for administrators and auditors (read only)."""
    require_oversight(actor)
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(session: Session, username: str, password: str) -> Actor:
    """Check a username and password; audit the attempt either way."""
    user = session.scalar(select(User).where(User.username == username))
    # An unknown or disabled user costs the same work, so timing does not reveal which names exist.
    stored = user.password_hash if user is not None and not user.disabled else None
    ok = passwords.verify_password(stored, password)
    if not ok:
        audit.record(
            session, Actor.system("sign-in"), "sign-in.failed", object_ref=f"user:{username[:80]}"
        )
        raise SignInFailed("wrong username or password, or the account is disabled")
    assert user is not None
    return actor_for(user)


def actor_for(user: User) -> Actor:
    return Actor(username=user.username, role=user.role, agency_code=user.agency_code)


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}", field="username", code=ErrorCode.NOT_FOUND)
    return user


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccessDenied",
    "SignInFailed",
    "UserError",
    "add_user",
    "authenticate",
    "create_first_admin",
    "list_users",
    "reset_second_factor",
    "set_disabled",
]
