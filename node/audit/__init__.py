"""The node's append-only, tamper-evident audit log (DESIGN section 8): who did what, when and why.

Entries are chained by SHA-256 in the RFC 6962 style and the node signs checkpoints of the chain's
size and head (`node.audit.chain` gives the exact encodings), each also kept in the node's
checkpoint file beside its keys (`node.audit.anchor`). `verify_log` checks any log against its
checkpoints; `verify_store` checks the store against its checkpoints and that file
(`node.audit.anchored`); both raise `AuditTampered` at the first fault. Entries after the last
checkpoint cannot be vouched for from the node alone; checkpoints will also go to the coordinator.
"""

from node.audit.anchor import CheckpointFile, CheckpointFileError
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
    CheckpointWatch,
    appended,
    checkpoint,
    checkpoint_if_due,
    confirm_committed,
    entries,
    forget_filed,
    latest_checkpoint,
    record,
    record_refusal,
    require_checkpoint_file,
    start_checkpoint_file,
    verify_store,
)
from node.audit.verify import AuditTampered, VerifyReport, verify_log

__all__ = [
    "REFUSED",
    "AuditRecord",
    "AuditTampered",
    "Checkpoint",
    "CheckpointFile",
    "CheckpointFileError",
    "CheckpointWatch",
    "VerifyReport",
    "appended",
    "canonical_bytes",
    "canonical_detail",
    "checkpoint",
    "checkpoint_if_due",
    "checkpoint_message",
    "confirm_committed",
    "entries",
    "export",
    "export_for",
    "forget_filed",
    "format_time",
    "latest_checkpoint",
    "leaf_hash",
    "link_hash",
    "next_record",
    "record",
    "record_refusal",
    "relink",
    "require_checkpoint_file",
    "sign_checkpoint",
    "start_checkpoint_file",
    "verify_log",
    "verify_store",
]
