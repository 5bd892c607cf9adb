"""The rules that hold a stored audit log to the node's checkpoint file: pure functions.

The checkpoint file (`node.audit.anchor`) gets every checkpoint the node signs, fsynced before the
transaction that stores it commits, and a "committed" line after. Given the file as read before
the store (`first`) and again after (`second`), the store's checkpoint rows and the report of the
log's verification against the store's checkpoints and the file's committed ones (`vouchers`):

1. every checkpoint row of the store is in the file, exactly, and once: a row the file never
   recorded, or a row repeated, was put there by hand (replayed);
2. every checkpoint the file records as committed is in the store (the log has already been
   verified against it): a missing one is a deleted row;
3. a checkpoint the file holds without a "committed" line and the store lacks was signed by a unit
   of work that never committed (the process died, or the commit failed, after the fsync), or
   that is still at work. It must be validly signed, and the store's log must still hold the log
   that unit of work began from (its base): only that unit's own entries may be missing;
4. a log with entries needs a checkpoint: the node signs one when it is set up, after every CLI
   command and every `audit_checkpoint_every` entries (rule 4 holds without a file too).

Reading the file before the store (in a transaction begun after it) means a checkpoint marked
committed was committed before the store was read, so rule 2 cannot be fooled by a commit made
meanwhile, and that uncommitted work's base was committed before too (rule 3); reading it again
after means every row the store showed had its line written first, so rule 1 cannot be fooled
either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from node.audit.anchor import FileContents
from node.audit.chain import Checkpoint
from node.audit.verify import (
    AuditTampered,
    VerifyReport,
    check_checkpoint_types,
    check_signature,
)


def vouchers(stored: Sequence[Checkpoint], first: FileContents) -> list[Checkpoint]:
    """The checkpoints the log must agree with: the store's rows and, beyond them, those the
    file says committed (so a log re-chained after its rows were deleted fails on them)."""
    signatures = {checkpoint.signature for checkpoint in stored}
    extra = [
        record.checkpoint
        for record in first.records
        if first.is_committed(record.checkpoint) and record.checkpoint.signature not in signatures
    ]
    return [*stored, *extra]


def check_against_file(
    stored: Sequence[Checkpoint],
    first: FileContents,
    second: FileContents,
    report: VerifyReport,
    trusted_keys: Collection[bytes],
    chain_at: Callable[[int], bytes],
    where: str,
) -> VerifyReport:
    """Apply rules 1-3 (see the module docstring) and return the report with the file's counts;
    `chain_at(n)` is the verified log's chain hash after n entries, `where` names the file."""
    _check_rows_recorded(stored, second, where)
    in_store = {checkpoint.signature for checkpoint in stored}
    uncommitted = 0
    for record in first.records:
        checkpoint = record.checkpoint
        if checkpoint.signature in in_store:
            continue
        if first.is_committed(checkpoint):
            raise AuditTampered(
                None,
                f"the store has lost the checkpoint of {checkpoint.size} entries signed at "
                f"{checkpoint.signed_at}, which {where} (line {record.line}) records as "
                "committed: its row was deleted",
            )
        check_checkpoint_types(checkpoint)
        check_signature(checkpoint, frozenset(bytes(key) for key in trusted_keys))
        _check_base(record.base_size, record.base_head, checkpoint, report, chain_at, where)
        uncommitted += 1
    return replace(report, filed=len(first.records), uncommitted=uncommitted)


def check_not_bare(report: VerifyReport) -> None:
    """Rule 4: a log with entries and no checkpoint has had its checkpoints deleted."""
    if report.size and not report.checkpoints_checked:
        raise AuditTampered(
            1,
            f"the log holds {report.size} entries but no signed checkpoint vouches for any of "
            "them: the node signs one as it is set up, so its checkpoints were deleted",
        )


def _check_rows_recorded(stored: Sequence[Checkpoint], second: FileContents, where: str) -> None:
    filed = {record.checkpoint.signature: record.checkpoint for record in second.records}
    for checkpoint in stored:
        label = f"the checkpoint of {checkpoint.size} entries signed at {checkpoint.signed_at}"
        if filed.get(checkpoint.signature) != checkpoint:
            raise AuditTampered(
                None,
                f"the store holds {label}, which {where} never recorded: the row was put in "
                "the store by hand (copied from another store, or from before a restore)",
            )
    repeated = [(cp, n) for cp, n in Counter(stored).items() if n > 1]
    if repeated:
        checkpoint, times = repeated[0]
        raise AuditTampered(
            None,
            f"the store holds the checkpoint of {checkpoint.size} entries signed at "
            f"{checkpoint.signed_at} {times} times; the node stores each once: a row was replayed",
        )


def _check_base(
    base_size: int,
    base_head: bytes,
    checkpoint: Checkpoint,
    report: VerifyReport,
    chain_at: Callable[[int], bytes],
    where: str,
) -> None:
    """An uncommitted checkpoint's unit of work began from a log the store must still hold."""
    label = (
        f"{where} holds a checkpoint of {checkpoint.size} entries signed at "
        f"{checkpoint.signed_at} whose unit of work did not commit, begun from a log of "
        f"{base_size} entries"
    )
    if base_size > report.size:
        raise AuditTampered(
            report.size + 1, f"{label}, but the log ends after {report.size}: entries were cut"
        )
    if chain_at(base_size) != base_head:
        raise AuditTampered(
            None,
            f"{label}, which differs from the store's first {base_size} entries: one of them "
            "was rewritten, inserted, removed or moved, and the chain recomputed",
        )
