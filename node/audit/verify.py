"""Verification of an audit log against its signed checkpoints: a pure, streaming function.

`verify_log` reads entries once, in order, keeping only the running chain hash, so it runs in
constant memory over any number of entries. It returns a report or raises `AuditTampered` naming
the first thing wrong; it never returns "false".

Entries and checkpoints may come from a store someone has written to by hand, so every value is
checked for its type before it is used (text stored as a BLOB, a number stored as text, a NULL,
a value too large): such a value is reported as tampering of the entry or checkpoint it is in,
never raised as another exception.

What it detects, given the checkpoints: an edited entry (its chain hash no longer matches); a
deleted, inserted, duplicated or reordered entry (``seq`` not 1, 2, 3, ... in order, or, if the
attacker renumbered and re-chained, a checkpoint whose head differs from the recomputed chain); a
truncated log (a checkpoint beyond its end); a forged or altered checkpoint (bad signature or a key
not trusted). What it cannot detect from the checkpoints it is given: entries rewritten or cut
after the last of them, or a tail cut together with the checkpoints that covered it. The node's
checkpoint file (`node.audit.anchored`) closes the second gap; the coordinator's copies of the
checkpoints (a later release) will close what the node alone cannot.
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
from node.errors import DomainError, ErrorCode
from node.keys import verify_signature

HASH_SIZE = 32
KEY_SIZE = 32
SIGNATURE_SIZE = 64
_MAX_SIZE = 2**63 - 1  # what the store's BIGINT holds
_TEXT_FIELDS = (
    "at",
    "actor",
    "actor_role",
    "actor_agency",
    "action",
    "object_ref",
    "purpose",
    "detail",
)


class AuditTampered(DomainError):
    """The audit log or a checkpoint is not what was written: `seq` names the first bad entry
    (None when the fault is in a checkpoint or in the log as a whole)."""

    code = ErrorCode.CONFLICT

    def __init__(self, seq: int | None, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        where = f"audit entry {seq}" if seq is not None else "audit log"
        super().__init__(f"{where}: {reason}")


class InvalidText(bytes):
    """Bytes a store holds as text that are not UTF-8 (read so, rather than failing the read)."""


def describe(value: object) -> str:
    """How a stored value reads, for a report of tampering: its kind and a short excerpt."""
    if value is None:
        return "NULL"
    if isinstance(value, InvalidText):
        return f"bytes that are not UTF-8 ({_excerpt(bytes(value))})"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"a BLOB of {len(value)} bytes"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int):
        return f"a whole number ({_excerpt(value)})"
    if isinstance(value, float):
        return f"a real number ({value!r})"
    if isinstance(value, str):
        return f"text ({_excerpt(value)})"
    return f"a {type(value).__name__}"


def _excerpt(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class VerifyReport:
    """What a verification established: the log's size and head, and the checkpoints that vouch."""

    size: int
    head_hash: bytes
    checkpoints_checked: int
    last_checkpoint_size: int | None
    unanchored_since: str | None = None  # the time of the first entry after the last checkpoint
    filed: int | None = None  # checkpoints in the checkpoint file (None: not checked against one)
    uncommitted: int = 0  # of those, signed by units of work that never committed

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
    first_unanchored = vouchers.final_size + 1
    unanchored_since = None
    vouchers.check_at(size, chain)
    for entry in entries:
        size += 1
        chain = _check_entry(entry, size, chain)
        vouchers.check_at(size, chain)
        if size == first_unanchored:
            unanchored_since = entry.at
    vouchers.check_none_beyond(size)
    return VerifyReport(
        size=size,
        head_hash=chain,
        checkpoints_checked=vouchers.checked,
        last_checkpoint_size=vouchers.last_size,
        unanchored_since=unanchored_since,
    )


def _check_entry(entry: AuditRecord, position: int, previous: bytes) -> bytes:
    """The chain hash after `entry`, which must sit at `position` and link to `previous`."""
    _check_entry_types(entry, position)
    if entry.seq != position:
        raise AuditTampered(position, _seq_problem(entry.seq, position))
    try:
        leaf = leaf_hash(entry)
    except (UnicodeError, ValueError) as exc:  # text the JSON encoding cannot carry
        raise AuditTampered(position, f"its text cannot be encoded as written ({exc})") from None
    chain = link_hash(previous, leaf)
    if chain != entry.chain_hash:
        raise AuditTampered(
            position,
            "its chain hash does not match its content and the entries before it: "
            "the entry (or its stored hash) was changed",
        )
    return chain


def _check_entry_types(entry: AuditRecord, position: int) -> None:
    """Every field must be stored as the type it was written with."""
    if type(entry.seq) is not int:
        raise AuditTampered(
            position, f"its seq is stored as {describe(entry.seq)}, not a whole number"
        )
    for name in _TEXT_FIELDS:
        value = getattr(entry, name)
        if type(value) is not str:
            raise AuditTampered(position, f"its {name} is stored as {describe(value)}, not text")
    chain = entry.chain_hash
    if type(chain) is not bytes or len(chain) != HASH_SIZE:
        raise AuditTampered(
            position, f"its chain hash is stored as {describe(chain)}, not {HASH_SIZE} bytes"
        )


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


def check_checkpoint_types(checkpoint: Checkpoint) -> None:
    """Raise AuditTampered unless every field of `checkpoint` has the type and size signed."""
    size = checkpoint.size
    problem = None
    if type(size) is not int or not 0 <= size <= _MAX_SIZE:
        problem = f"its size is stored as {describe(size)}, not a whole number of entries"
    else:
        for name, wanted in (
            ("head_hash", HASH_SIZE),
            ("verify_key", KEY_SIZE),
            ("signature", SIGNATURE_SIZE),
        ):
            value = getattr(checkpoint, name)
            if type(value) is not bytes or len(value) != wanted:
                problem = f"its {name} is stored as {describe(value)}, not {wanted} bytes"
                break
        else:
            if type(checkpoint.signed_at) is not str:
                problem = f"its signed_at is stored as {describe(checkpoint.signed_at)}, not text"
    if problem is not None:
        signed = checkpoint.signed_at if type(checkpoint.signed_at) is str else "an unknown time"
        raise AuditTampered(None, f"the checkpoint signed at {signed[:40]} is damaged: {problem}")


class _Checkpoints:
    """The checkpoints still to be reached, in size order, and how many have vouched so far."""

    def __init__(self, checkpoints: Sequence[Checkpoint], trusted_keys: Collection[bytes]) -> None:
        for checkpoint in checkpoints:
            check_checkpoint_types(checkpoint)
        self._trusted = frozenset(bytes(key) for key in trusted_keys)
        ordered = sorted(checkpoints, key=lambda cp: cp.size)
        self.final_size = ordered[-1].size if ordered else 0
        self._pending = iter(ordered)
        self._due = next(self._pending, None)
        self.checked = 0
        self.last_size: int | None = None

    def check_at(self, size: int, chain: bytes) -> None:
        """Every checkpoint of `size` entries (or fewer, not yet reached) must vouch for `chain`."""
        while self._due is not None and self._due.size <= size:
            due = self._due
            check_signature(due, self._trusted)
            if due.size < size or due.head_hash != chain:
                first = (self.last_size or 0) + 1
                raise AuditTampered(
                    first,
                    f"this entry or one after it up to seq {due.size} was rewritten, inserted, "
                    "removed or moved, and the chain recomputed: the checkpoint signed at "
                    f"{due.signed_at} vouches for a different log of {due.size} entries",
                )
            self.checked, self.last_size = self.checked + 1, size
            self._due = next(self._pending, None)

    def check_none_beyond(self, size: int) -> None:
        """No validly signed checkpoint may vouch for more entries than the log holds."""
        if self._due is None:
            return
        check_signature(self._due, self._trusted)
        raise AuditTampered(
            size + 1,
            f"the log ends after {size} entries but the checkpoint signed at "
            f"{self._due.signed_at} vouches for {self._due.size}: entries were cut from the end",
        )


def check_signature(checkpoint: Checkpoint, trusted: Collection[bytes]) -> None:
    """Raise AuditTampered unless `checkpoint` is validly signed by a key in `trusted` (its
    types already checked by `check_checkpoint_types`)."""
    label = f"the checkpoint of size {checkpoint.size} signed at {checkpoint.signed_at}"
    if bytes(checkpoint.verify_key) not in trusted:
        raise AuditTampered(None, f"{label} is signed by a key that is not trusted")
    try:
        message = checkpoint_message(checkpoint.size, checkpoint.head_hash, checkpoint.signed_at)
        verify_signature(checkpoint.verify_key, message, checkpoint.signature)
    except (nacl.exceptions.BadSignatureError, ValueError, OverflowError, UnicodeError):
        raise AuditTampered(None, f"{label} has a signature that does not verify") from None
