"""The enrolled nodes as the dashboard shows them, with their health (latest heartbeat, silent
ones flagged) and what the audit witness found: frozen read models, never live rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.nodes.directory import current_version
from coordinator.nodes.heartbeats import Health, health_of
from coordinator.nodes.witness import flagged
from coordinator.store.models import Borough, EnrolledNode, utcnow


@dataclass(frozen=True)
class NodeView:
    borough: str
    name: str
    endpoint: str
    enrolled_at: dt.datetime
    software_version: str
    key_id: str  # of its Ed25519 verify key, as its envelopes name it
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoked_reason: str | None
    health: Health | None = None
    witness_flags: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Nodes:
    directory_version: int
    nodes: tuple[NodeView, ...]


def enrolled_nodes(
    session: Session,
    *,
    now: dt.datetime | None = None,
    silent_after: dt.timedelta = dt.timedelta(minutes=15),
) -> Nodes:
    from mash_common.envelope import key_id

    rows = list(session.scalars(select(EnrolledNode).order_by(EnrolledNode.borough)))
    healths = health_of(
        session, [n.borough for n in rows], now=now or utcnow(), silent_after=silent_after
    )
    flags = flagged(session)
    names = {code: name for code, name in session.execute(select(Borough.code, Borough.name))}
    return Nodes(
        current_version(session),
        tuple(
            NodeView(
                n.borough,
                names.get(n.borough, n.borough),
                n.endpoint,
                n.enrolled_at,
                n.software_version,
                key_id(n.verify_key),
                n.revoked_at,
                n.revoked_by,
                n.revoked_reason,
                healths.get(n.borough),
                tuple(flags.get(n.borough, ())),
            )
            for n in rows
        ),
    )


def enrolled_node(session: Session, borough: str) -> NodeView | None:
    return next((n for n in enrolled_nodes(session).nodes if n.borough == borough), None)
