"""Revoking a node: the project team (an administrator) ends a borough node's place in the
federation, with a reason. The next directory lists it as revoked; every peer refuses its calls
and its certificate once it has refreshed, and ends its disclosures with it as cancelled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coordinator import events
from coordinator.access import Actor, require_admin
from coordinator.errors import DomainError, ErrorCode, NotFound
from coordinator.nodes.directory import bump_version
from coordinator.store.models import EnrolledNode, utcnow


class AlreadyRevoked(DomainError):
    code = ErrorCode.CONFLICT


def revoke(
    session: Session, actor: Actor, borough: str, reason: str, *, now: dt.datetime | None = None
) -> int:
    """Revoke `borough`'s node; returns the directory version that lists it as revoked."""
    require_admin(actor)
    reason = reason.strip()
    if not 5 <= len(reason) <= 500:
        raise DomainError("say why the node is revoked (5 to 500 characters)", field="reason")
    node = session.get(EnrolledNode, borough, with_for_update=True)
    if node is None:
        raise NotFound(f"no enrolled node of {borough!r}")
    if node.revoked_at is not None:
        raise AlreadyRevoked(
            f"{borough!r}'s node was revoked already, on {node.revoked_at:%d %B %Y}"
        )
    now = now or utcnow()
    node.revoked_at = now
    node.revoked_by = actor.username
    node.revoked_reason = reason
    version = bump_version(session, now)
    events.record(session, actor, "node.revoked", borough=borough, reason=reason, version=version)
    return version
