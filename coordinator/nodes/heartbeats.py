"""Node heartbeats: each node's latest report of how it is (versions, its index, its queues,
its last import; no personal data), and which nodes have gone silent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.store.models import NodeHeartbeat
from protos.mash.coordinator.v1 import health_pb2


def record_heartbeat(
    session: Session, borough: str, beat: health_pb2.HeartbeatPayload, now: dt.datetime
) -> None:
    row = session.get(NodeHeartbeat, borough, with_for_update=True)
    if row is None:
        row = NodeHeartbeat(borough=borough)
        session.add(row)
    row.received_at = now
    row.software_version = beat.software_version[:40]
    row.key_set_version = beat.key_set_version
    row.filter_epoch = beat.filter_epoch
    row.filter_size = beat.filter_size
    row.reports_queued = beat.reports_queued
    row.requests_undelivered = beat.requests_undelivered
    row.requests_open = beat.requests_open
    row.answers_undelivered = beat.answers_undelivered
    row.last_import_at = (
        dt.datetime.fromtimestamp(beat.last_import_at_ms / 1000, dt.UTC)
        if beat.last_import_at_ms
        else None
    )
    row.directory_version = beat.directory_version
    session.flush()


@dataclass(frozen=True)
class Health:
    borough: str
    last_heartbeat: dt.datetime | None
    silent: bool  # not heard from for longer than the configured time (or never)
    software_version: str = ""
    key_set_version: int = 0
    filter_epoch: int = 0
    filter_size: int = 0
    reports_queued: int = 0
    requests_undelivered: int = 0
    requests_open: int = 0
    answers_undelivered: int = 0
    last_import_at: dt.datetime | None = None
    directory_version: int = 0


def health_of(
    session: Session, boroughs: list[str], *, now: dt.datetime, silent_after: dt.timedelta
) -> dict[str, Health]:
    """Each borough's health from its latest heartbeat; silent if none within `silent_after`."""
    rows = {
        row.borough: row
        for row in session.scalars(select(NodeHeartbeat).where(NodeHeartbeat.borough.in_(boroughs)))
    }
    found = {}
    for borough in boroughs:
        row = rows.get(borough)
        if row is None:
            found[borough] = Health(borough, None, True)
            continue
        found[borough] = Health(
            borough,
            row.received_at,
            now - row.received_at > silent_after,
            row.software_version,
            row.key_set_version,
            row.filter_epoch,
            row.filter_size,
            row.reports_queued,
            row.requests_undelivered,
            row.requests_open,
            row.answers_undelivered,
            row.last_import_at,
            row.directory_version,
        )
    return found
