"""The coordinator's access log: sign-ins, sign-outs, failures and refusals, one row each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from coordinator.access import Actor
from coordinator.store.models import AccessEvent, utcnow


def record(session: Session, actor: Actor | str, action: str, **detail: Any) -> None:
    username = actor if isinstance(actor, str) else actor.username
    session.add(AccessEvent(at=utcnow(), actor=username[:80], action=action, detail=detail))
    session.flush()
