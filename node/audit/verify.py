"""Verification of an audit log against its signed checkpoints: a pure, streaming function.

`verify_log` reads entries once, in order, keeping only the running chain hash, so it runs in
constant memory over any number of entries. It returns a report or raises `AuditTampered` naming
the first thing wrong; it never returns "false".

What it detects, given the checkpoints: an edited entry (its chain hash no longer matches); a
deleted, inserted, duplicated or reordered entry (``seq`` not 1, 2, 3, ... in order, or, if the
attacker renumbered and re-chained, a checkpoint whose head differs from the recomputed chain); a
truncated log (a checkpoint beyond its end); a forged or altered checkpoint (bad signature or a key
not trusted). What it cannot detect from the node alone: entries cut from the tail after the last
checkpoint, or a tail cut together with the checkpoints that covered it. Checkpoints are also sent
to the coordinator, whose copies close that gap up to the last checkpoint it received.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import nacl.exceptions

from node.audit.chain import (
    ZERO_HASH,
    AuditRecord,
    Checkpoint,
    checkpoint_message,
    leaf_hash,
    link_hash,
)
from node.keys import verify_signature


class AuditTampered(Exception):
    """The audit log or a checkpoint is not what was written: `seq` names the first bad entry."""

    def __init__(self, seq: int | None, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        where = f"audit entry {seq}" if seq is not None else "audit log"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class VerifyReport:
    """What a verification established: the log's size and head, and the checkpoints that vouch."""

    size: int
    head_hash: bytes
    checkpoints_checked: int
    last_checkpoint_size: int | None

    @property
    def unanchored(self) -> int:
        """Entries after the last checkpoint: their truncation would not be detected."""
        return self.size - (self.last_checkpoint_size or 0)


def verify_log(
    entries: Iterable[AuditRecord],
    checkpoints: Sequence[Checkpoint],
    trusted_keys: Collection[bytes],
) -> VerifyReport:
    """Check that entries form one unbroken chain that every validly signed checkpoint vouches for.

    `entries` must be in storage order (by seq); it is consumed once. `trusted_keys` are raw
    Ed25519 verify keys (32 bytes); a checkpoint signed by any other key is refused.
    """
    vouchers = _Checkpoints(checkpoints, trusted_keys)
    chain, size = ZERO_HASH, 0
    vouchers.check_at(size, chain)
    for entry in entries:
        size += 1
        chain = _check_entry(entry, size, chain)
        vouchers.check_at(size, chain)
    vouchers.check_none_beyond(size)
    return VerifyReport(
        size=size,
        head_hash=chain,
        checkpoints_checked=vouchers.checked,
        last_checkpoint_size=vouchers.last_size,
    )


def _check_entry(entry: AuditRecord, position: int, previous: bytes) -> bytes:
    """The chain hash after `entry`, which must sit at `position` and link to `previous`."""
    if entry.seq != position:
        raise AuditTampered(position, _seq_problem(entry.seq, position))
    chain = link_hash(previous, leaf_hash(entry))
    if chain != entry.chain_hash:
        raise AuditTampered(
            position,
            "its chain hash does not match its content and the entries before it: "
            "the entry (or its stored hash) was changed",
        )
    return chain


def _seq_problem(seq: int, position: int) -> str:
    if seq > position:
        missing = seq - position
        return (
            f"expected seq {position} but found {seq}: "
            f"{missing} entr{'y' if missing == 1 else 'ies'} missing (deleted)"
        )
    return (
        f"expected seq {position} but found {seq}: an entry was inserted, repeated or moved "
        "out of order"
    )


class _Checkpoints:
    """The checkpoints still to be reached, in size order, and how many have vouched so far."""

    def __init__(self, checkpoints: Sequence[Checkpoint], trusted_keys: Collection[bytes]) -> None:
        self._trusted = frozenset(bytes(key) for key in trusted_keys)
        self._pending = iter(sorted(checkpoints, key=lambda cp: cp.size))
        self._due = next(self._pending, None)
        self.checked = 0
        self.last_size: int | None = None

    def check_at(self, size: int, chain: bytes) -> None:
        """Every checkpoint of `size` entries (or fewer, not yet reached) must vouch for `chain`."""
        while self._due is not None and self._due.size <= size:
            due = self._due
            self._check_signature(due)
            if due.size < size or due.head_hash != chain:
                raise AuditTampered(
                    None,
                    f"the checkpoint signed at {due.signed_at} vouches for a different log of "
                    f"{due.size} entries: an entry up to seq {due.size} was rewritten, inserted, "
                    "removed or moved, and the chain recomputed",
                )
            self.checked, self.last_size = self.checked + 1, size
            self._due = next(self._pending, None)

    def check_none_beyond(self, size: int) -> None:
        """No validly signed checkpoint may vouch for more entries than the log holds."""
        if self._due is None:
            return
        self._check_signature(self._due)
        raise AuditTampered(
            size + 1,
            f"the log ends after {size} entries but the checkpoint signed at "
            f"{self._due.signed_at} vouches for {self._due.size}: entries were cut from the end",
        )

    def _check_signature(self, checkpoint: Checkpoint) -> None:
        label = f"the checkpoint of size {checkpoint.size} signed at {checkpoint.signed_at}"
        if bytes(checkpoint.verify_key) not in self._trusted:
            raise AuditTampered(None, f"{label} is signed by a key that is not trusted")
        try:
            message = checkpoint_message(
                checkpoint.size, checkpoint.head_hash, checkpoint.signed_at
            )
            verify_signature(checkpoint.verify_key, message, checkpoint.signature)
        except (nacl.exceptions.BadSignatureError, ValueError, OverflowError):
            raise AuditTampered(None, f"{label} has a signature that does not verify") from None
