"""Users, roles and argon2id passwords (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node import users
from node.access import AccessDenied
from node.store.models import AuditEntry, Role, User
from tests.helpers import ADMIN, MANAGER, make_hub

GOOD = "correct horse battery"


@pytest.fixture
def hub(session: Session) -> Session:
    make_hub(session)
    return session


def add(session: Session, username: str = "jo.smith", **changes: object) -> User:
    fields: dict[str, object] = {
        "username": username,
        "display_name": "Jo Smith",
        "role": Role.AGENCY_PROFESSIONAL,
        "agency_code": "police",
        "password": GOOD,
    }
    fields.update(changes)
    return users.add_user(session, ADMIN, **fields)  # type: ignore[arg-type]


def test_password_is_stored_as_argon2id_and_checks(hub: Session) -> None:
    user = add(hub)
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash
    actor = users.authenticate(hub, "jo.smith", GOOD)
    assert (actor.username, actor.role, actor.agency_code) == (
        "jo.smith",
        Role.AGENCY_PROFESSIONAL,
        "police",
    )


def test_wrong_password_unknown_user_and_disabled_user_fail_alike_and_are_audited(
    hub: Session,
) -> None:
    add(hub)
    with pytest.raises(users.SignInFailed):
        users.authenticate(hub, "jo.smith", "wrong password!")
    with pytest.raises(users.SignInFailed):
        users.authenticate(hub, "nobody", GOOD)
    users.set_disabled(hub, ADMIN, "jo.smith", True)
    with pytest.raises(users.SignInFailed):
        users.authenticate(hub, "jo.smith", GOOD)
    failed = hub.scalars(
        select(AuditEntry.object_ref)
        .where(AuditEntry.action == "sign-in.failed")
        .order_by(AuditEntry.seq)
    ).all()
    assert failed == ["user:jo.smith", "user:nobody", "user:jo.smith"]


def test_disabling_ends_sessions_and_reenabling_restores(hub: Session) -> None:
    user = add(hub)
    version = user.session_version
    users.set_disabled(hub, ADMIN, "jo.smith", True)
    assert user.disabled and user.session_version == version + 1
    users.set_disabled(hub, ADMIN, "jo.smith", False)
    assert users.authenticate(hub, "jo.smith", GOOD).username == "jo.smith"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"agency_code": None}, "agency"),
        ({"agency_code": "fire"}, "agency"),
        ({"role": Role.MASH_MANAGER}, "agency"),  # managers belong to no agency
        ({"username": "Jo Smith"}, "username"),
        ({"display_name": " "}, "name"),
        ({"password": "short"}, "password"),
        ({"password": "jo.smith-is-me-ok"}, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password"),
    ],
)
def test_invalid_users_are_refused_naming_the_field(
    hub: Session, changes: dict, field: str
) -> None:
    with pytest.raises(users.UserError, match=f"^{field}:"):
        add(hub, **changes)


def test_usernames_are_unique(hub: Session) -> None:
    add(hub)
    with pytest.raises(users.UserError, match="already taken"):
        add(hub)


def test_only_administrators_manage_users(hub: Session) -> None:
    with pytest.raises(AccessDenied):
        users.add_user(
            hub, MANAGER, username="x.y", display_name="X", role=Role.AUDITOR, password=GOOD
        )
    with pytest.raises(AccessDenied):
        users.list_users(hub, MANAGER)


def test_first_admin_is_created_once(hub: Session) -> None:
    assert (
        users.create_first_admin(hub, username="admin", display_name="A", password=GOOD) is not None
    )
    assert users.create_first_admin(hub, username="admin2", display_name="B", password=GOOD) is None
    assert [u.username for u in users.list_users(hub, ADMIN)] == ["admin"]


def test_resetting_the_second_factor_clears_it_and_ends_sessions(hub: Session) -> None:
    user = add(hub)
    user.totp_secret, user.totp_last_step = "sealed", 123
    version = user.session_version
    users.reset_second_factor(hub, ADMIN, "jo.smith")
    assert (user.totp_secret, user.totp_last_step) == (None, None)
    assert user.session_version == version + 1
    entry = hub.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.action, entry.object_ref) == ("user.reset-second-factor", "user:jo.smith")
    with pytest.raises(AccessDenied):
        users.reset_second_factor(hub, MANAGER, "jo.smith")
