"""Who may open each page: every view carries a permission marker, checked before it runs.

`@public` (the sign-in pages), `@second_factor_pending` (password given, second factor not yet)
and `@roles(group)` (a role group of `coordinator.access`). The markers only label views;
`check_permission` enforces them for every request, and a view without one is refused, so a
forgotten decorator fails closed (a test also walks the URL map for them). A refusal renders the
403 page and writes an `access.denied` entry in the access log.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from coordinator.access import AccessDenied
from coordinator.auth.sessions import SignedInUser
from coordinator.store.models import Role
from coordinator.web.errors import render_error
from coordinator.web.services import current_coordinator, request_detail
from coordinator.web.sessions import current_user

log = logging.getLogger(__name__)

ATTRIBUTE = "mash_permission"
SIGN_IN = "auth.sign_in"
TWO_FACTOR = "auth.two_factor"
START = "overview.index"

View = TypeVar("View", bound=Callable[..., Any])


class Level(enum.Enum):
    PUBLIC = "public"
    SECOND_FACTOR_PENDING = "second-factor-pending"
    SIGNED_IN = "signed-in"


@dataclass(frozen=True)
class Permission:
    level: Level
    roles: frozenset[Role] = frozenset()

    def admits(self, user: SignedInUser | None) -> bool:
        if self.level is Level.PUBLIC:
            return True
        if user is None:
            return False
        if self.level is Level.SECOND_FACTOR_PENDING:
            return not user.second_factor_done
        return user.second_factor_done and user.role in self.roles


def _mark(view: View, permission: Permission) -> View:
    if hasattr(view, ATTRIBUTE):
        raise TypeError(f"{view.__name__} already has a permission marker")
    setattr(view, ATTRIBUTE, permission)
    return view


def public(view: View) -> View:
    return _mark(view, Permission(Level.PUBLIC))


def second_factor_pending(view: View) -> View:
    return _mark(view, Permission(Level.SECOND_FACTOR_PENDING))


def roles(group: frozenset[Role]) -> Callable[[View], View]:
    """Users signed in with both factors who hold a role of `group` (coordinator.access's)."""
    if not isinstance(group, frozenset) or not group:
        raise TypeError("roles() takes one of coordinator.access's role groups")

    def decorate(view: View) -> View:
        return _mark(view, Permission(Level.SIGNED_IN, group))

    return decorate


def permission_of(view: Callable[..., Any]) -> Permission | None:
    permission = getattr(view, ATTRIBUTE, None)
    return permission if isinstance(permission, Permission) else None


def may_open(endpoint: str, user: SignedInUser | None, app: Flask | None = None) -> bool:
    view = (app or current_app).view_functions.get(endpoint)
    permission = permission_of(view) if view is not None else None
    return permission is not None and permission.admits(user)


def check_permission() -> ResponseReturnValue | None:
    if request.url_rule is None or request.endpoint is None:
        return None
    if request.endpoint == "static":
        return None
    permission = permission_of(current_app.view_functions[request.endpoint])
    if permission is None:
        log.error("refused %s: its view has no permission marker", request.endpoint)
        return refuse("the page has no permission marker")
    user = current_user()
    if permission.level is Level.PUBLIC:
        return None
    if permission.level is Level.SECOND_FACTOR_PENDING:
        if user is None:
            return redirect(url_for(SIGN_IN))
        if user.second_factor_done:
            return redirect(url_for(START))
        return None
    if user is None:
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        if wanted and wanted != url_for(START):
            return redirect(url_for(SIGN_IN, next=wanted))
        return redirect(url_for(SIGN_IN))
    if not user.second_factor_done:
        return redirect(url_for(TWO_FACTOR))
    if user.role not in permission.roles:
        allowed = ", ".join(sorted(role.value for role in permission.roles))
        return refuse(f"the page needs the role {allowed}")
    return None


def refuse(why: str | AccessDenied) -> ResponseReturnValue:
    user = current_user()
    if user is not None:
        current_coordinator().record_refusal(user.actor, why, detail=request_detail())
    return render_error(403)


def handle_access_denied(error: AccessDenied) -> ResponseReturnValue:
    return refuse(error)
