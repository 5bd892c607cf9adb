"""The audit log's hashing and signing rules, RFC 6962 style: pure functions over immutable values.

Entry encoding. The canonical bytes of an entry are the UTF-8 encoding of a JSON object holding
exactly the fields ``seq``, ``at``, ``actor``, ``actor_role``, ``actor_agency``, ``action``,
``object_ref``, ``purpose`` and ``detail``, written by ``json.dumps`` with ``sort_keys=True``,
``separators=(",", ":")`` (no whitespace) and ``ensure_ascii=False``. ``seq`` is a JSON integer;
every other field is a JSON string. ``detail`` is hashed as the text stored (itself canonical
JSON, see `canonical_detail`), so any change to that text, even of whitespace only, changes the
hash. ``at`` is ISO 8601 UTC with microseconds and a ``Z`` suffix (see `format_time`), fixed
width, so that text order is time order.

Chain. With ``H`` = SHA-256 and ``||`` concatenation (the 0x00 / 0x01 prefixes separate leaves from
interior links, as RFC 6962 section 2.1 does)::

    leaf_i  = H(0x00 || canonical_bytes(entry_i))
    chain_0 = 32 zero bytes
    chain_i = H(0x01 || chain_{i-1} || leaf_i)

Entry ``i`` (``seq = i``, counting from 1) stores ``chain_i``; the head of a log of ``n`` entries is
``chain_n``.

Checkpoint. A node signs, with its Ed25519 key, the message::

    b"mash-audit-checkpoint/v1\\n" || size as 8 bytes big-endian || head_hash (32 bytes)
        || signed_at as UTF-8

Every part but the last has a fixed length, so the message is unambiguous. Nothing in it names the
borough: the verify key says whose checkpoint it is.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mash_common.checkpoints import CHECKPOINT_CONTEXT as CHECKPOINT_CONTEXT  # shared with
from mash_common.checkpoints import checkpoint_message as checkpoint_message  # the coordinator
from node.keys import NodeKeys

ZERO_HASH = bytes(32)
_LEAF_PREFIX = b"\x00"
_LINK_PREFIX = b"\x01"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit log as stored: who did what, when, to what and why, and its link."""

    seq: int
    at: str
    actor: str
    actor_role: str
    actor_agency: str
    action: str
    object_ref: str
    purpose: str
    detail: str
    chain_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the log had `size` entries ending in `head_hash` at `signed_at`."""

    size: int
    head_hash: bytes
    signed_at: str
    verify_key: bytes
    signature: bytes


def format_time(moment: dt.datetime) -> str:
    """The fixed-width UTC text of a timezone-aware moment, as entries and checkpoints store it."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware; got a naive datetime")
    return moment.astimezone(dt.UTC).strftime(_TIME_FORMAT)


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    """The canonical JSON text of an entry's detail; dates become ISO 8601 strings."""
    return json.dumps(
        dict(detail or {}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def canonical_bytes(record: AuditRecord) -> bytes:
    """The bytes an entry's leaf hash is taken over (every field but chain_hash)."""
    fields = {
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "actor_role": record.actor_role,
        "actor_agency": record.actor_agency,
        "action": record.action,
        "object_ref": record.object_ref,
        "purpose": record.purpose,
        "detail": record.detail,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def leaf_hash(record: AuditRecord) -> bytes:
    return hashlib.sha256(_LEAF_PREFIX + canonical_bytes(record)).digest()


def link_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(_LINK_PREFIX + previous + leaf).digest()


def next_record(
    previous: bytes,
    *,
    seq: int,
    at: str,
    actor: str,
    actor_role: str,
    actor_agency: str,
    action: str,
    object_ref: str,
    purpose: str,
    detail: str,
) -> AuditRecord:
    """The entry with these fields, linked to the chain hash `previous` of the entry before it."""
    unlinked = AuditRecord(
        seq=seq,
        at=at,
        actor=actor,
        actor_role=actor_role,
        actor_agency=actor_agency,
        action=action,
        object_ref=object_ref,
        purpose=purpose,
        detail=detail,
        chain_hash=b"",
    )
    return relink(previous, unlinked)


def relink(previous: bytes, record: AuditRecord) -> AuditRecord:
    """The record with its chain hash recomputed to follow the chain hash `previous`."""
    return replace(record, chain_hash=link_hash(previous, leaf_hash(record)))


def sign_checkpoint(keys: NodeKeys, size: int, head_hash: bytes, signed_at: str) -> Checkpoint:
    """A checkpoint of a log with `size` entries ending in `head_hash`, signed by this node."""
    signature = keys.sign(checkpoint_message(size, head_hash, signed_at))
    return Checkpoint(
        size=size,
        head_hash=head_hash,
        signed_at=signed_at,
        verify_key=bytes(keys.verify_key),
        signature=signature,
    )


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(
        f"audit detail values must be JSON types, dates or enums; got {type(value).__name__}"
    )
