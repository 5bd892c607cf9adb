"""Who may do what: the one place where the firewall's access rules are written.

Domain services call these checks, and the web's permission markers name the role groups below;
no other module compares an actor's role (tests/test_access_rules.py fails if one does). A check
either returns (with what the actor may use, where that helps) or raises `AccessDenied`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select

from node.errors import DomainError, ErrorCode
from node.store.models import Referral, ResearchTask, Role


class AccessDenied(DomainError):
    """The actor may not do this. The message says what was refused, never the data behind it.

    `audited` is set once the refusal has its `access.denied` audit entry (the runtime writes it
    when the unit of work that raised it rolls back), so no adapter writes a second one."""

    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.audited = False


@dataclass(frozen=True)
class Actor:
    """The person, peer node or the node itself on whose behalf a service acts.

    A peer borough's node acting for one of its users is `Actor.peer(borough, pseudonym)`: it
    has no role here, so none of the hub's own rules admit it; the federation's own checks do.
    """

    username: str
    role: Role | None
    agency_code: str | None = None
    borough: str | None = None  # the peer borough this actor acts for, if any

    @classmethod
    def system(cls, what: str) -> Actor:
        """The node acting for itself (init, scheduled checkpoints): no personal-data access."""
        return cls(username=f"system:{what}", role=None)

    @classmethod
    def peer(cls, borough: str, pseudonym: str) -> Actor:
        """Another borough's node, acting for one of its users (known here by a pseudonym)."""
        return cls(username=f"peer:{borough}/{pseudonym}", role=None, borough=borough)

    @property
    def label(self) -> str:
        role = self.role.value if self.role else ("peer node" if self.borough else "system")
        return f"{self.username} ({role}{', ' + self.agency_code if self.agency_code else ''})"


# --- role groups: each written once, used by the services' checks and the pages' markers ------

HUB_MEMBERS = frozenset({Role.MASH_MANAGER, Role.AGENCY_PROFESSIONAL})  # the secure room
MANAGERS = frozenset({Role.MASH_MANAGER})
RESEARCHERS = frozenset({Role.AGENCY_PROFESSIONAL})
SEARCHERS = HUB_MEMBERS  # managers see which agencies hold, professionals their own records too
LINK_DECIDERS = HUB_MEMBERS  # confirming or undoing links is a professional judgement
ADMINISTRATORS = frozenset({Role.NODE_ADMIN})
AUDIT_READERS = frozenset({Role.AUDITOR, Role.NODE_ADMIN})
# The strategic assessment: aggregates only, for the manager and the partnership's analysts.
ASSESSMENT_READERS = frozenset({Role.MASH_MANAGER, Role.PARTNERSHIP_ANALYST})
HARM_FLAG_READERS = MANAGERS  # cumulative-harm flags: advice for the manager's queue
OVERSEERS = frozenset({Role.AUDITOR, Role.NODE_ADMIN})  # see the user list and audit status


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise AccessDenied(f"{actor.label} may not do this: it needs the role {allowed}")


def permits(check: Callable[..., object], *args: object) -> bool:
    """Whether a check passes: for pages that offer only the steps a service would allow."""
    try:
        check(*args)
    except AccessDenied:
        return False
    return True


def require_search(actor: Actor) -> None:
    require_role(actor, SEARCHERS)


def require_admin(actor: Actor) -> None:
    require_role(actor, ADMINISTRATORS)


def require_audit_reader(actor: Actor) -> None:
    require_role(actor, AUDIT_READERS)


def require_oversight(actor: Actor) -> None:
    """The user list and the audit log's verification status, read only."""
    require_role(actor, OVERSEERS)


def require_link_decision(actor: Actor) -> None:
    require_role(actor, LINK_DECIDERS)


def require_hub_member(actor: Actor) -> None:
    """Contacts are recorded, and queues read, by the MASH manager or any agency professional."""
    require_role(actor, HUB_MEMBERS)


def require_manager(actor: Actor) -> None:
    """Triage, RAG ratings and outcomes are the MASH manager's decisions."""
    require_role(actor, MANAGERS)


def require_harm_flags(actor: Actor) -> None:
    """Cumulative-harm flags (on the queue, explained, dismissed with a reason) are advice for the
    MASH manager: they name people and which agencies hold what on them."""
    require_role(actor, HARM_FLAG_READERS)


def require_assessment(actor: Actor) -> None:
    """The strategic assessment (aggregates for a period and area, small counts suppressed) is
    for the MASH manager and the partnership analyst, whose role sees nothing else."""
    require_role(actor, ASSESSMENT_READERS)


def require_borough_check(actor: Actor) -> None:
    """Asking other boroughs whether they hold anything on a person is the MASH manager's step
    (each check is audited here and at every borough asked)."""
    require_role(actor, MANAGERS)


def role_needs_agency(role: Role) -> bool:
    """Agency professionals belong to exactly one agency; every other role to none."""
    return role in RESEARCHERS


# --- the firewall ------------------------------------------------------------------------------


def own_agency(actor: Actor) -> str | None:
    """The agency whose raw records the actor reads in full, or None (they see counts only)."""
    if actor.role in RESEARCHERS and actor.agency_code:
        return actor.agency_code
    return None


def can_read_agency_data(actor: Actor, agency_code: str) -> bool:
    """Raw records are seen by the owning agency's professionals only."""
    return own_agency(actor) == agency_code


def require_researcher(actor: Actor) -> str:
    """Research (reading own records on a referral, contributing, completing) is an agency
    professional's; returns their agency."""
    agency = own_agency(actor)
    if agency is None:
        raise AccessDenied(f"{actor.label} may not research: only agency professionals do")
    return agency


def require_own_agency_data(actor: Actor, agency_code: str) -> None:
    """An agency's records and items are used only by that agency's professionals."""
    if not can_read_agency_data(actor, agency_code):
        raise AccessDenied(f"{actor.label} may use only their own agency's records")


def require_release_decision(actor: Actor, owning_agency: str) -> None:
    """Only the owning agency's professional decides whether its item leaves the hub (for
    health, a health professional); not the manager, not an administrator."""
    if own_agency(actor) != owning_agency:
        raise AccessDenied(
            f"{actor.label} may not decide the release of {owning_agency}'s information: "
            f"only a {owning_agency} professional can"
        )


# --- the secure room of a referral ---------------------------------------------------------------


def works_referral(actor: Actor, working_agencies: set[str]) -> bool:
    """Whether the actor's agency researches the referral (has a research task on it)."""
    agency = own_agency(actor)
    return agency is not None and agency in working_agencies


def require_referral_access(actor: Actor, working_agencies: set[str]) -> None:
    """A referral is seen by MASH managers and by the professionals of the agencies working it."""
    if actor.role in MANAGERS or works_referral(actor, working_agencies):
        return
    raise AccessDenied(f"{actor.label} may not see this referral: their agency is not working it")


def require_disclosure_access(actor: Actor, agencies_with_items: set[str]) -> None:
    """Another borough's request is worked by MASH managers, and by the professionals of the
    agencies whose items it concerns (each deciding their own)."""
    if actor.role in MANAGERS or works_referral(actor, agencies_with_items):
        return
    raise AccessDenied(
        f"{actor.label} may not see this request: none of their agency's items are in it"
    )


def sees_every_request(actor: Actor) -> bool:
    """Whether the actor's queue of other boroughs' requests lists them all (a manager's)."""
    return actor.role in MANAGERS


def queue_filter(actor: Actor) -> ColumnElement[bool] | None:
    """Which open referrals the actor's queue lists: a manager's, all (None); a professional's,
    those their agency still has research open on."""
    require_hub_member(actor)
    if actor.role in MANAGERS:
        return None
    return Referral.id.in_(
        select(ResearchTask.referral_id).where(
            ResearchTask.agency_code == own_agency(actor),
            ResearchTask.completed_at.is_(None),
        )
    )
