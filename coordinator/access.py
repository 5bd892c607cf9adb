"""Who may do what at the coordinator: the one place where its access rules are written.

Three roles: the project team's editors change the rollout plan and the baselines; viewers see
everything and change nothing; administrators manage the coordinator's users and see everything,
but do not edit the plan. Services call the checks below, the web's permission markers name the
role groups, and no other module compares a role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coordinator.errors import DomainError, ErrorCode
from coordinator.store.models import Role


class AccessDenied(DomainError):
    """The actor may not do this. `audited` is set once the refusal is in the access log."""

    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.audited = False


@dataclass(frozen=True)
class Actor:
    """The person, or the coordinator itself, on whose behalf a service acts."""

    username: str
    role: Role | None

    @classmethod
    def system(cls, what: str) -> Actor:
        """The coordinator acting for itself (init, a node's report, the demo data)."""
        return cls(username=f"system:{what}", role=None)

    @property
    def label(self) -> str:
        return f"{self.username} ({self.role.value if self.role else 'system'})"


EDITORS = frozenset({Role.EDITOR})
READERS = frozenset({Role.EDITOR, Role.VIEWER, Role.ADMINISTRATOR})
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise AccessDenied(f"{actor.label} may not do this: it needs the role {allowed}")


def require_editor(actor: Actor) -> None:
    """Changing the rollout plan, the settings or a baseline."""
    require_role(actor, EDITORS)


def require_reader(actor: Actor) -> None:
    """Seeing the plan, the figures and the reports."""
    require_role(actor, READERS)


def require_admin(actor: Actor) -> None:
    """Managing the coordinator's users."""
    require_role(actor, ADMINISTRATORS)


def permits(check: Callable[..., object], *args: object) -> bool:
    """Whether a check passes: for pages that offer only the steps a service would allow."""
    try:
        check(*args)
    except AccessDenied:
        return False
    return True
