"""Every change to the plan kept as history (who, when, what, each field before and after), and
the version check that stops an edit made from an old copy overwriting someone else's.

A service that changes a row calls `require_version` with the version the editor's form was made
from, then `apply` with the new values: it writes only the fields that differ, bumps the row's
version, and records one `Change` (nothing if nothing differs). Every change also bumps the data
generation, which tells cached dashboards that they are stale.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordinator.access import Actor
from coordinator.errors import ChangedSince
from coordinator.store.models import Change, DataGeneration, utcnow


def shown(value: Any) -> Any:
    """A value as the history keeps it: dates as ISO text, enums by value, the rest as is."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def require_version(
    session: Session, row: Any, expected: int | None, what: str, entity: str, entity_id: str
) -> None:
    """Refuse (ChangedSince: who and when) unless the row is still at `expected`."""
    if expected is None or row.version == expected:
        return
    last = session.scalars(
        select(Change)
        .where(Change.entity == entity, Change.entity_id == entity_id)
        .order_by(Change.id.desc())
        .limit(1)
    ).first()
    by = last.actor if last is not None else getattr(row, "updated_by", "someone")
    at = last.at if last is not None else getattr(row, "updated_at", None)
    raise ChangedSince(what, by, at, row.version)


def apply(
    session: Session,
    actor: Actor,
    row: Any,
    values: dict[str, Any],
    *,
    entity: str,
    entity_id: str,
    borough: str | None,
    summary: str,
) -> Change | None:
    """Set `values` on `row`, bump its version and record the change; None if nothing changed."""
    fields = {
        name: [shown(getattr(row, name)), shown(value)]
        for name, value in values.items()
        if getattr(row, name) != value
    }
    if not fields:
        return None
    for name in fields:
        setattr(row, name, values[name])
    now = utcnow()
    row.version += 1
    if hasattr(row, "updated_by"):
        row.updated_by = actor.username
        row.updated_at = now
    return record(
        session,
        actor,
        borough=borough,
        entity=entity,
        entity_id=entity_id,
        action="changed",
        summary=summary,
        fields=fields,
        at=now,
    )


def record(
    session: Session,
    actor: Actor,
    *,
    borough: str | None,
    entity: str,
    entity_id: str,
    action: str,
    summary: str,
    fields: dict[str, list[Any]],
    at: dt.datetime | None = None,
) -> Change:
    change = Change(
        at=at or utcnow(),
        actor=actor.username,
        borough_code=borough,
        entity=entity,
        entity_id=entity_id,
        action=action,
        summary=summary[:300],
        fields=fields,
    )
    session.add(change)
    bump_generation(session)
    session.flush()
    return change


def bump_generation(session: Session) -> None:
    """Tell cached dashboards that what they show has changed."""
    updated = session.execute(
        update(DataGeneration)
        .where(DataGeneration.id == 1)
        .values(generation=DataGeneration.generation + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DataGeneration(id=1, generation=1))
        session.flush()


def generation(session: Session) -> int:
    return session.scalar(select(DataGeneration.generation).where(DataGeneration.id == 1)) or 0
