"""The bytes a node's audit checkpoint signature covers (node/audit/chain.py documents the log),
shared so that the coordinator, which keeps every checkpoint as a witness, can verify them:

    b"mash-audit-checkpoint/v1\\n" || size as 8 bytes big-endian || head_hash (32 bytes)
        || signed_at as UTF-8
"""

from __future__ import annotations

CHECKPOINT_CONTEXT = b"mash-audit-checkpoint/v1\n"
HEAD_HASH_BYTES = 32


def checkpoint_message(size: int, head_hash: bytes, signed_at: str) -> bytes:
    """The exact bytes a checkpoint's Ed25519 signature covers."""
    if size < 0:
        raise ValueError(f"a checkpoint size cannot be negative; got {size}")
    if len(head_hash) != HEAD_HASH_BYTES:
        raise ValueError(f"a head hash is 32 bytes; got {len(head_hash)}")
    return CHECKPOINT_CONTEXT + size.to_bytes(8, "big") + head_hash + signed_at.encode("utf-8")
