"""What this node tells the coordinator about itself: heartbeats (its release, key-set version,
published index epoch and size, queue lengths and last import time; nothing about any person)
and every audit checkpoint it signs, for the coordinator to keep as a witness; and the
checkpoints the coordinator holds, for `mash-node audit verify --against-coordinator`.

Each request is signed with the node's key in the federation envelope (fresh timestamp and
nonce) and goes over mutual TLS to the coordinator (its reserved certificate name checked).
Checkpoints are sent oldest first from the last one the coordinator acknowledged, which is kept
in `<data_dir>/witnessed.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import grpc
from sqlalchemy import func, select

from mash_common.client import coordinator_channel
from mash_common.envelope import new_header, seal
from node.config import ConfigError
from node.disclosures import holding
from node.federation import index
from node.federation.info import software_version
from node.keys import load_enrolment, load_tls
from node.matching.keys import KEY_SET_VERSION
from node.runtime import Node
from node.store.models import (
    AuditCheckpoint,
    EvaluationReportQueue,
    ImportRun,
    IncomingDisclosure,
    OprfIndexEntry,
    OutgoingDisclosure,
    OutgoingState,
)
from protos.mash.coordinator.v1 import health_pb2, health_pb2_grpc

WITNESSED_FILE = "witnessed.json"
BATCH = 500
HEARTBEAT = health_pb2.HeartbeatPayload.DESCRIPTOR.full_name
CHECKPOINTS = health_pb2.CheckpointsPayload.DESCRIPTOR.full_name


def _stub(node: Node) -> tuple[grpc.Channel, health_pb2_grpc.NodeHealthStub]:
    settings = node.config.coordinator
    if settings is None:
        raise ConfigError(
            f"{node.config.path}: no [coordinator] section; `mash-node enrol` writes one"
        )
    channel = coordinator_channel(
        settings.address, load_tls(node.config.keys_dir), default_timeout=settings.timeout_seconds
    )
    return channel, health_pb2_grpc.NodeHealthStub(channel)


def _sealed(node: Node, message_type: str, payload: bytes):  # type: ignore[no-untyped-def]
    return seal(
        payload, message_type, node.keys, node.config.borough_code, node.keys.signing_key_id
    )


def heartbeat_payload(node: Node, directory_version: int = 0) -> health_pb2.HeartbeatPayload:
    """How this node is now: counts and versions only."""
    epoch = index.published_epoch(node) or 0
    with node.reading() as session:
        size = session.scalar(
            select(func.count()).select_from(OprfIndexEntry).where(OprfIndexEntry.epoch == epoch)
        )
        queued = session.scalar(
            select(func.count())
            .select_from(EvaluationReportQueue)
            .where(EvaluationReportQueue.state == "queued")
        )
        undelivered = session.scalar(
            select(func.count())
            .select_from(OutgoingDisclosure)
            .where(OutgoingDisclosure.state.in_((OutgoingState.DRAFT, OutgoingState.SENT)))
        )
        waiting = session.scalar(
            select(func.count())
            .select_from(IncomingDisclosure)
            .where(IncomingDisclosure.state.in_(holding.OPEN))
        )
        answers = session.scalar(
            select(func.count())
            .select_from(IncomingDisclosure)
            .where(
                IncomingDisclosure.sealed_answer.is_not(None),
                IncomingDisclosure.answer_delivered_at.is_(None),
            )
        )
        last_import = session.scalar(select(func.max(ImportRun.imported_at)))
    return health_pb2.HeartbeatPayload(
        header=new_header(node.config.borough_code, key_set_version=0),
        software_version=software_version(),
        key_set_version=KEY_SET_VERSION,
        filter_epoch=epoch,
        filter_size=size or 0,
        reports_queued=queued or 0,
        requests_undelivered=undelivered or 0,
        requests_open=waiting or 0,
        answers_undelivered=answers or 0,
        last_import_at_ms=int(last_import.timestamp() * 1000) if last_import else 0,
        directory_version=directory_version,
    )


def send_heartbeat(node: Node, *, directory_version: int = 0) -> None:
    payload = heartbeat_payload(node, directory_version)
    channel, stub = _stub(node)
    try:
        stub.Heartbeat(
            health_pb2.HeartbeatRequest(
                envelope=_sealed(node, HEARTBEAT, payload.SerializeToString())
            )
        )
    finally:
        channel.close()


@dataclass(frozen=True)
class Sent:
    stored: int
    already_held: int
    inconsistencies: tuple[str, ...]


def send_checkpoints(node: Node) -> Sent:
    """Send the checkpoints signed since the last the coordinator acknowledged."""
    path = node.config.data_dir / WITNESSED_FILE
    try:
        since = str(json.loads(path.read_text(encoding="utf-8"))["signed_at"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        since = ""
    stored = held = 0
    found: list[str] = []
    channel, stub = _stub(node)
    try:
        while True:
            with node.reading() as session:
                rows = list(
                    session.scalars(
                        select(AuditCheckpoint)
                        .where(AuditCheckpoint.signed_at > since)
                        .order_by(AuditCheckpoint.signed_at, AuditCheckpoint.size)
                        .limit(BATCH)
                    )
                )
            if not rows:
                break
            payload = health_pb2.CheckpointsPayload(
                header=new_header(node.config.borough_code, key_set_version=0),
                checkpoints=[
                    health_pb2.AuditCheckpoint(
                        size=r.size,
                        head_hash=r.head_hash,
                        signed_at=r.signed_at,
                        verify_key=r.verify_key,
                        signature=r.signature,
                    )
                    for r in rows
                ],
            )
            answer = stub.SubmitCheckpoints(
                health_pb2.CheckpointsRequest(
                    envelope=_sealed(node, CHECKPOINTS, payload.SerializeToString())
                )
            )
            stored += answer.stored
            held += answer.already_held
            found += list(answer.inconsistencies)
            since = rows[-1].signed_at
            _remember(path, since)
            if len(rows) < BATCH:
                break
    finally:
        channel.close()
    return Sent(stored, held, tuple(found))


def _remember(path: os.PathLike[str], signed_at: str) -> None:
    temporary = f"{os.fspath(path)}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"signed_at": signed_at}, handle)
    os.replace(temporary, path)


def held_by_coordinator(node: Node) -> health_pb2.HeldCheckpoints:
    """The checkpoints of this node's log that the coordinator holds, and what it flagged."""
    channel, stub = _stub(node)
    try:
        return stub.GetCheckpoints(health_pb2.GetCheckpointsRequest())
    finally:
        channel.close()


def enrolled(node: Node) -> bool:
    return load_enrolment(node.config.keys_dir) is not None
