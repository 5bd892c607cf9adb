"""The enrolled nodes as the dashboard shows them: frozen read models, never live rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.nodes.directory import current_version
from coordinator.store.models import Borough, EnrolledNode


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

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Nodes:
    directory_version: int
    nodes: tuple[NodeView, ...]


def enrolled_nodes(session: Session) -> Nodes:
    from mash_common.envelope import key_id

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
            )
            for n in session.scalars(select(EnrolledNode).order_by(EnrolledNode.borough))
        ),
    )


def enrolled_node(session: Session, borough: str) -> NodeView | None:
    return next((n for n in enrolled_nodes(session).nodes if n.borough == borough), None)
