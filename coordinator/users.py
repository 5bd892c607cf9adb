"""The coordinator's staff users: who they are, their role, argon2id passwords, signing in."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import events
from coordinator.access import Actor, require_admin
from coordinator.errors import DomainError, ErrorCode
from coordinator.store.models import Role, User
from mash_common.auth import passwords

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,79}$")
ROLE_NAMES = {
    Role.EDITOR: "Project team editor",
    Role.VIEWER: "Viewer",
    Role.ADMINISTRATOR: "Administrator",
}


class UserError(DomainError):
    """A user cannot be created or changed as asked (`field` says which input)."""


class SignInFailed(Exception):
    """Wrong username or password, or a disabled account (deliberately not saying which)."""


def add_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
) -> User:
    """Create a user (administrators only)."""
    require_admin(actor)
    return _create(session, actor, username, display_name, role, password)


def create_first_admin(
    session: Session, *, username: str, display_name: str, password: str
) -> User | None:
    """At `init`: create the first administrator unless one already exists."""
    exists = session.scalar(select(User.id).where(User.role == Role.ADMINISTRATOR).limit(1))
    if exists is not None:
        return None
    return _create(
        session, Actor.system("init"), username, display_name, Role.ADMINISTRATOR, password
    )


def _create(
    session: Session, actor: Actor, username: str, display_name: str, role: Role, password: str
) -> User:
    if not _USERNAME.match(username):
        raise UserError(
            "3-80 characters, lower-case letters, digits, '.', '_' or '-', starting with a letter",
            field="username",
        )
    if not display_name.strip():
        raise UserError("must not be empty", field="name")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"{username!r} is already taken", field="username")
    try:
        passwords.check_password_rules(username, password)
    except passwords.PasswordRuleBroken as exc:
        raise UserError(exc.message, field="password") from None
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        password_hash=passwords.hash_password(password),
    )
    session.add(user)
    session.flush()
    events.record(session, actor, "user.add", user=username, role=role.value)
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
    events.record(session, actor, "user.disable" if disabled else "user.enable", user=username)
    return user


def reset_second_factor(session: Session, actor: Actor, username: str) -> User:
    """A user lost their authenticator: clear their TOTP secret and end their sessions."""
    require_admin(actor)
    user = _get(session, username)
    user.totp_secret = None
    user.totp_last_step = None
    user.session_version += 1
    session.flush()
    events.record(session, actor, "user.reset-second-factor", user=username)
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    require_admin(actor)
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(session: Session, username: str, password: str) -> Actor:
    """Check a username and password; record a failure."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and not user.disabled else None
    if not passwords.verify_password(stored, password):
        events.record(session, f"user:{username[:70]}", "sign-in.failed")
        raise SignInFailed("wrong username or password, or the account is disabled")
    assert user is not None
    return actor_for(user)


def actor_for(user: User) -> Actor:
    return Actor(username=user.username, role=user.role)


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}", field="username", code=ErrorCode.NOT_FOUND)
    return user
