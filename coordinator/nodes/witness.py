"""The audit witness: the coordinator keeps every signed audit checkpoint a node sends and flags
a node whose new checkpoint contradicts one it already holds: a smaller log than one it signed
before (a truncated log), or the same size with another head (a rewritten one). The node's log is
a hash chain, which has no RFC 6962 consistency proofs, so a larger checkpoint is kept as it is;
`mash-node audit verify --against-coordinator` holds the node's log to every checkpoint kept.

A checkpoint must verify under the node's enrolled (or configured) Ed25519 key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.errors import DomainError, ErrorCode
from coordinator.store.models import WitnessedCheckpoint
from mash_common.checkpoints import checkpoint_message
from protos.mash.coordinator.v1 import health_pb2

MAX_BATCH = 500


class CheckpointRefused(DomainError):
    code = ErrorCode.INVALID


@dataclass(frozen=True)
class Witnessed:
    stored: int
    already_held: int
    inconsistencies: tuple[str, ...]


def witness(
    session: Session,
    borough: str,
    verify_key: bytes,
    checkpoints: Sequence[health_pb2.AuditCheckpoint],
    now: dt.datetime,
) -> Witnessed:
    """Verify and keep `borough`'s checkpoints, in the order of their size."""
    if len(checkpoints) > MAX_BATCH:
        raise CheckpointRefused(f"at most {MAX_BATCH} checkpoints at a time")
    stored = held = 0
    found: list[str] = []
    for point in sorted(checkpoints, key=lambda c: (c.size, c.signed_at)):
        if bytes(point.verify_key) != verify_key:
            raise CheckpointRefused(
                f"a checkpoint of size {point.size} is signed by another key than {borough!r}'s"
            )
        try:
            message = checkpoint_message(point.size, bytes(point.head_hash), point.signed_at)
            VerifyKey(verify_key).verify(message, bytes(point.signature))
        except (BadSignatureError, ValueError):
            raise CheckpointRefused(
                f"the checkpoint of size {point.size} signed at {point.signed_at} does not verify"
            ) from None
        same = session.scalar(
            select(WitnessedCheckpoint.id).where(
                WitnessedCheckpoint.borough == borough,
                WitnessedCheckpoint.size == point.size,
                WitnessedCheckpoint.head_hash == bytes(point.head_hash),
                WitnessedCheckpoint.signed_at == point.signed_at,
            )
        )
        if same is not None:
            held += 1
            continue
        inconsistency = _inconsistency(session, borough, point)
        session.add(
            WitnessedCheckpoint(
                borough=borough,
                size=point.size,
                head_hash=bytes(point.head_hash),
                signed_at=point.signed_at,
                verify_key=verify_key,
                signature=bytes(point.signature),
                received_at=now,
                inconsistency=inconsistency,
            )
        )
        session.flush()
        stored += 1
        if inconsistency:
            found.append(inconsistency)
    return Witnessed(stored, held, tuple(found))


def _inconsistency(session: Session, borough: str, point: health_pb2.AuditCheckpoint) -> str | None:
    largest = session.scalar(
        select(func.max(WitnessedCheckpoint.size)).where(WitnessedCheckpoint.borough == borough)
    )
    if largest is not None and point.size < largest:
        return (
            f"a log of {point.size} entries signed at {point.signed_at}, after a checkpoint of "
            f"{largest} entries: the log was truncated"
        )
    other = session.scalar(
        select(WitnessedCheckpoint.signed_at).where(
            WitnessedCheckpoint.borough == borough,
            WitnessedCheckpoint.size == point.size,
            WitnessedCheckpoint.head_hash != bytes(point.head_hash),
        )
    )
    if other is not None:
        return (
            f"{point.size} entries with another head than the checkpoint signed at {other}: the "
            "log was rewritten"
        )
    return None


def held_checkpoints(session: Session, borough: str) -> tuple[list[WitnessedCheckpoint], list[str]]:
    rows = list(
        session.scalars(
            select(WitnessedCheckpoint)
            .where(WitnessedCheckpoint.borough == borough)
            .order_by(WitnessedCheckpoint.size, WitnessedCheckpoint.signed_at)
        )
    )
    return rows, [row.inconsistency for row in rows if row.inconsistency]


def flagged(session: Session) -> dict[str, list[str]]:
    """Every borough the witness has flagged, with what it found."""
    found: dict[str, list[str]] = {}
    for borough, why in session.execute(
        select(WitnessedCheckpoint.borough, WitnessedCheckpoint.inconsistency)
        .where(WitnessedCheckpoint.inconsistency.is_not(None))
        .order_by(WitnessedCheckpoint.id)
    ):
        found.setdefault(borough, []).append(why)
    return found
