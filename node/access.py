"""Who may do what: the one place where the firewall's access rules are written.

Domain services call these checks; the CLI and the web UI never decide access themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.store.models import Role


class AccessDenied(Exception):
    """The actor may not do this. The message says what was refused, never the data behind it."""


@dataclass(frozen=True)
class Actor:
    """The person (or the node itself) on whose behalf a service acts."""

    username: str
    role: Role | None
    agency_code: str | None = None

    @classmethod
    def system(cls, what: str) -> Actor:
        """The node acting for itself (init, scheduled checkpoints): no personal-data access."""
        return cls(username=f"system:{what}", role=None)

    @property
    def label(self) -> str:
        role = self.role.value if self.role else "system"
        return f"{self.username} ({role}{', ' + self.agency_code if self.agency_code else ''})"


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise AccessDenied(f"{actor.label} may not do this: it needs the role {allowed}")


def can_read_agency_data(actor: Actor, agency_code: str) -> bool:
    """The firewall: raw records are seen by the owning agency's professionals only."""
    return actor.role is Role.AGENCY_PROFESSIONAL and actor.agency_code == agency_code


def require_search(actor: Actor) -> None:
    """Agency professionals and MASH managers search; managers see which agencies hold, not what."""
    require_role(actor, Role.AGENCY_PROFESSIONAL, Role.MASH_MANAGER)


def require_admin(actor: Actor) -> None:
    require_role(actor, Role.NODE_ADMIN)


def require_audit_reader(actor: Actor) -> None:
    require_role(actor, Role.AUDITOR, Role.NODE_ADMIN)


def require_link_decision(actor: Actor) -> None:
    """Confirming, rejecting, merging or unmerging subjects is a professional judgement."""
    require_role(actor, Role.AGENCY_PROFESSIONAL, Role.MASH_MANAGER)


# --- the front door --------------------------------------------------------------------------


def require_intake(actor: Actor) -> None:
    """Contacts are recorded by the MASH manager or any agency professional in the hub."""
    require_role(actor, Role.MASH_MANAGER, Role.AGENCY_PROFESSIONAL)


def require_manager(actor: Actor) -> None:
    """Triage, RAG ratings and outcomes are the MASH manager's decisions."""
    require_role(actor, Role.MASH_MANAGER)


def require_referral_access(actor: Actor, working_agencies: set[str]) -> None:
    """The secure room: a referral is seen by MASH managers and by the professionals of the
    agencies working it (those with a research task on it)."""
    if actor.role is Role.MASH_MANAGER:
        return
    if actor.role is Role.AGENCY_PROFESSIONAL and actor.agency_code in working_agencies:
        return
    raise AccessDenied(f"{actor.label} may not see this referral: their agency is not working it")


def require_release_decision(actor: Actor, owning_agency: str) -> None:
    """The firewall: only the owning agency's professional decides whether its item leaves the
    hub (for health, a health professional); not the manager, not an administrator."""
    if actor.role is Role.AGENCY_PROFESSIONAL and actor.agency_code == owning_agency:
        return
    raise AccessDenied(
        f"{actor.label} may not decide the release of {owning_agency}'s information: "
        f"only a {owning_agency} professional can"
    )
