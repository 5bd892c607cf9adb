"""The node's append-only, tamper-evident audit log (DESIGN section 8): who did what, when and why.

Entries are chained by SHA-256 in the RFC 6962 style and the node signs checkpoints of the chain's
size and head (`node.audit.chain` gives the exact encodings). `verify_log` checks any log against
its checkpoints and raises `AuditTampered` at the first bad entry. Entries cut from the tail after
the last checkpoint cannot be detected from the node alone; checkpoints also go to the coordinator.
"""

from node.audit.chain import (
    AuditRecord,
    Checkpoint,
    canonical_bytes,
    canonical_detail,
    checkpoint_message,
    format_time,
    leaf_hash,
    link_hash,
    next_record,
    relink,
    sign_checkpoint,
)
from node.audit.export import export, export_for
from node.audit.log import (
    REFUSED,
    appended,
    checkpoint,
    checkpoint_if_due,
    entries,
    latest_checkpoint,
    record,
    record_refusal,
    verify_store,
)
from node.audit.verify import AuditTampered, VerifyReport, verify_log

__all__ = [
    "REFUSED",
    "AuditRecord",
    "AuditTampered",
    "Checkpoint",
    "VerifyReport",
    "appended",
    "canonical_bytes",
    "canonical_detail",
    "checkpoint",
    "checkpoint_if_due",
    "checkpoint_message",
    "entries",
    "export",
    "export_for",
    "format_time",
    "latest_checkpoint",
    "leaf_hash",
    "link_hash",
    "next_record",
    "record",
    "record_refusal",
    "relink",
    "sign_checkpoint",
    "verify_log",
    "verify_store",
]
