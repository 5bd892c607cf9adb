"""The audit witness's rules on the coordinator's store (both databases): checkpoints kept once,
a smaller log or the same size with another head flagged, a checkpoint not signed by the node's
key refused."""

from __future__ import annotations

import datetime as dt

import pytest
from nacl.signing import SigningKey
from sqlalchemy.orm import Session

from coordinator.nodes.witness import CheckpointRefused, flagged, held_checkpoints, witness
from mash_common.checkpoints import checkpoint_message
from protos.mash.coordinator.v1 import health_pb2

KEY = SigningKey(bytes(range(32)))
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def point(size: int, head: int, at: str, key: SigningKey = KEY) -> health_pb2.AuditCheckpoint:
    head_hash = bytes([head]) * 32
    signed_at = f"2026-12-06T09:00:{at}.000000Z"
    return health_pb2.AuditCheckpoint(
        size=size,
        head_hash=head_hash,
        signed_at=signed_at,
        verify_key=bytes(KEY.verify_key),
        signature=key.sign(checkpoint_message(size, head_hash, signed_at)).signature,
    )


def test_a_growing_log_is_kept_once_and_not_flagged(db: Session) -> None:
    key = bytes(KEY.verify_key)
    first = witness(db, "hackney", key, [point(3, 1, "01"), point(5, 2, "02")], NOW)
    again = witness(db, "hackney", key, [point(5, 2, "02"), point(9, 3, "03")], NOW)
    assert (first.stored, first.already_held, first.inconsistencies) == (2, 0, ())
    assert (again.stored, again.already_held, again.inconsistencies) == (1, 1, ())
    assert [r.size for r in held_checkpoints(db, "hackney")[0]] == [3, 5, 9]
    assert flagged(db) == {}


def test_a_smaller_log_or_another_head_at_the_same_size_is_flagged(db: Session) -> None:
    key = bytes(KEY.verify_key)
    witness(db, "hackney", key, [point(3, 1, "01"), point(5, 2, "02")], NOW)
    rewritten = witness(db, "hackney", key, [point(5, 7, "04")], NOW)
    truncated = witness(db, "hackney", key, [point(2, 8, "05")], NOW)
    assert (
        len(rewritten.inconsistencies) == 1
        and "the log was rewritten" in rewritten.inconsistencies[0]
    )
    assert (
        len(truncated.inconsistencies) == 1
        and "the log was truncated" in truncated.inconsistencies[0]
    )
    assert list(flagged(db)) == ["hackney"] and len(flagged(db)["hackney"]) == 2
    witness(db, "lambeth", key, [point(1, 1, "01")], NOW)  # another borough's log is its own
    assert list(flagged(db)) == ["hackney"]


def test_a_checkpoint_not_signed_by_the_nodes_key_is_refused(db: Session) -> None:
    forged = point(4, 1, "01", key=SigningKey.generate())
    with pytest.raises(CheckpointRefused, match="does not verify"):
        witness(db, "hackney", bytes(KEY.verify_key), [forged], NOW)
    other = SigningKey.generate()
    with pytest.raises(CheckpointRefused, match="another key"):
        witness(db, "hackney", bytes(other.verify_key), [point(4, 1, "01")], NOW)
