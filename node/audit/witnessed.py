"""This node's audit log held to the checkpoints the coordinator keeps as its witness
(`mash-node audit verify --against-coordinator`): every checkpoint the coordinator holds must be
this node's signature, and the log must still hold an entry at its size whose chain hash is its
head. A log truncated, rewritten or replaced since fails, whatever the node's own store says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.audit.chain import ZERO_HASH, checkpoint_message
from node.store.models import AuditEntry


@dataclass(frozen=True)
class Witnessed:
    size: int
    head_hash: bytes
    signed_at: str
    verify_key: bytes
    signature: bytes


@dataclass(frozen=True)
class WitnessReport:
    checked: int
    largest: int
    problems: tuple[str, ...]


def against_witness(
    session: Session, verify_key: bytes, held: Iterable[Witnessed]
) -> WitnessReport:
    """Compare the store's log with the coordinator's checkpoints; problems in words."""
    size = session.scalar(select(func.max(AuditEntry.seq))) or 0
    problems: list[str] = []
    checked = largest = 0
    for point in held:
        checked += 1
        largest = max(largest, point.size)
        try:
            if point.verify_key != verify_key:
                raise ValueError
            VerifyKey(verify_key).verify(
                checkpoint_message(point.size, point.head_hash, point.signed_at), point.signature
            )
        except (BadSignatureError, ValueError):
            problems.append(
                f"the coordinator holds a checkpoint of {point.size} entries signed at "
                f"{point.signed_at} that is not this node's signature"
            )
            continue
        if point.size > size:
            problems.append(
                f"the coordinator holds a checkpoint of {point.size} entries signed at "
                f"{point.signed_at}, but the log has only {size}: it was truncated"
            )
            continue
        head = (
            ZERO_HASH
            if point.size == 0
            else session.scalar(select(AuditEntry.chain_hash).where(AuditEntry.seq == point.size))
        )
        if head is None or bytes(head) != point.head_hash:
            problems.append(
                f"entry {point.size} does not end the log the checkpoint signed at "
                f"{point.signed_at} vouched for: the log was rewritten"
            )
    return WitnessReport(checked, largest, tuple(problems))
