"""What node administrators and auditors see of the audit log: its state, and a verification of
the whole log on request, each read audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.access import Actor, require_oversight
from node.audit.anchor import CheckpointFile
from node.audit.chain import Checkpoint
from node.audit.log import latest_checkpoint, record, verify_store
from node.audit.verify import AuditTampered, VerifyReport
from node.store.models import AuditEntry


@dataclass(frozen=True)
class LogState:
    """How long the log is and how much of it the last signed checkpoint vouches for."""

    size: int
    last_checkpoint: Checkpoint | None

    @property
    def unanchored(self) -> int:
        """Entries after the last checkpoint (signed when enough are due, or by the CLI)."""
        return self.size - (self.last_checkpoint.size if self.last_checkpoint else 0)


@dataclass(frozen=True)
class Verification:
    """The result of verifying the whole log: a report, or what was found wrong."""

    report: VerifyReport | None
    problem: str | None


def log_state(session: Session, actor: Actor) -> LogState:
    require_oversight(actor)
    size = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    record(session, actor, "audit.status")
    return LogState(size, latest_checkpoint(session))


def verify_now(
    session: Session, actor: Actor, trusted_keys: list[bytes], anchor: CheckpointFile
) -> Verification:
    """Verify the whole log against its checkpoints and the node's checkpoint file (as
    `mash-node audit verify` does)."""
    require_oversight(actor)
    try:
        report = verify_store(session, trusted_keys, anchor=anchor)
    except AuditTampered as exc:
        record(session, actor, "audit.verify", detail={"intact": False, "problem": str(exc)})
        return Verification(None, str(exc))
    record(session, actor, "audit.verify", detail={"intact": True, "size": report.size})
    return Verification(report, None)
