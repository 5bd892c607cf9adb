"""Sending the hub's monthly evaluation figures to the coordinator, through a queue in the store.

`queue_report` keeps a month's figures (computed by node/evaluation.py, small counts already
suppressed) in `evaluation_report_queue`; `deliver_queued` sends every queued report, oldest
first, each in an envelope signed afresh with the node's key (a fresh timestamp and nonce), over
mutual TLS to the coordinator (whose certificate must carry its reserved name). A report the
coordinator stores (or already holds a newer copy of) is marked delivered; while the coordinator
cannot be reached the reports stay queued, in order, for the next delivery; a report it refuses
(the refusal is kept with it) is not sent again, so it cannot hold back the months after it.
Resending is safe: the coordinator keeps one report a borough and month. Each queueing and each
delivery is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy import select

from mash_common.client import coordinator_channel
from mash_common.evaluation import MonthlyFigures, from_proto, sealed_report, to_proto
from mash_common.status import error_code_of
from node import audit
from node.access import Actor
from node.config import ConfigError
from node.keys import load_tls
from node.runtime import Node
from node.store.models import EvaluationReportQueue, utcnow
from protos.mash.coordinator.v1 import reports_pb2, reports_pb2_grpc

ACTOR = Actor.system("evaluation")
QUEUED, DELIVERED, REFUSED = "queued", "delivered", "refused"
# The coordinator could not be reached, or could not answer now: try again later.
TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)
_OUTCOMES = {
    reports_pb2.SubmitReportResponse.STORED: "stored",
    reports_pb2.SubmitReportResponse.REPLACED: "replaced",
    reports_pb2.SubmitReportResponse.ALREADY_NEWER: "already-newer",
}


@dataclass(frozen=True)
class Attempt:
    """What happened to one queued report in a delivery."""

    queue_id: int
    month: str
    state: str  # delivered | refused | queued (not reached)
    detail: str


@dataclass(frozen=True)
class Delivery:
    attempts: tuple[Attempt, ...]
    still_queued: int

    @property
    def delivered(self) -> int:
        return sum(1 for a in self.attempts if a.state == DELIVERED)

    @property
    def refused(self) -> int:
        return sum(1 for a in self.attempts if a.state == REFUSED)


def queue_report(node: Node, figures: MonthlyFigures) -> int:
    """Queue a month's figures for the coordinator; returns the queue entry's id."""
    generated = dt.datetime.fromtimestamp(figures.generated_at_ms / 1000, dt.UTC)
    with node.unit_of_work(ACTOR) as session:
        entry = EvaluationReportQueue(
            month=figures.month,
            figures=to_proto(figures).SerializeToString(),
            generated_at=generated,
            queued_at=utcnow(),
        )
        session.add(entry)
        session.flush()
        audit.record(
            session,
            ACTOR,
            "evaluation.report-queued",
            object_ref=f"evaluation-report:{figures.month}",
            detail={"queue_id": entry.id, "counts": len(figures.counts)},
        )
        return entry.id


ChannelFactory = Callable[[], grpc.Channel]


def deliver_queued(node: Node, *, channel: ChannelFactory | None = None) -> Delivery:
    """Send every queued report, oldest first, until one cannot reach the coordinator."""
    with node.reading() as session:
        queued = [
            (row.id, row.month, row.figures)
            for row in session.scalars(
                select(EvaluationReportQueue)
                .where(EvaluationReportQueue.state == QUEUED)
                .order_by(EvaluationReportQueue.id)
            )
        ]
    if not queued:
        return Delivery((), 0)
    settings = node.config.coordinator
    if settings is None and channel is None:
        raise ConfigError(
            f"{node.config.path}: no [coordinator] section; set coordinator.address to the "
            "coordinator's gRPC host:port to send reports"
        )
    opened = channel() if channel is not None else _channel(node)
    attempts: list[Attempt] = []
    try:
        stub = reports_pb2_grpc.EvaluationStub(opened)
        timeout = settings.timeout_seconds if settings is not None else 10.0
        for index, (queue_id, month, figures) in enumerate(queued):
            attempt = _send(node, stub, queue_id, month, figures, timeout)
            attempts.append(attempt)
            if attempt.state == QUEUED:  # unreachable: keep this one and the rest, in order
                attempts += [Attempt(q, m, QUEUED, "not tried") for q, m, _ in queued[index + 1 :]]
                break
    finally:
        opened.close()
    still = sum(1 for a in attempts if a.state == QUEUED)
    return Delivery(tuple(attempts), still)


def _channel(node: Node) -> grpc.Channel:
    assert node.config.coordinator is not None
    return coordinator_channel(
        node.config.coordinator.address,
        load_tls(node.config.keys_dir),
        default_timeout=node.config.coordinator.timeout_seconds,
    )


def _send(
    node: Node,
    stub: reports_pb2_grpc.EvaluationStub,
    queue_id: int,
    month: str,
    figures: bytes,
    timeout: float,
) -> Attempt:
    request = sealed_report(
        from_proto(reports_pb2.MonthlyFigures.FromString(figures)),
        node.keys,
        node.config.borough_code,
        node.keys.signing_key_id,
    )
    now = utcnow()
    try:
        response = stub.SubmitMonthlyReport(request, timeout=timeout)
    except grpc.RpcError as error:
        status = error.code()  # type: ignore[attr-defined]
        why = f"{status.name}: {error.details()}"  # type: ignore[attr-defined]
        state = QUEUED if status in TRANSIENT else REFUSED
        _record(node, queue_id, month, state, now, why, error_code_of(error) or "")
        return Attempt(queue_id, month, state, why)
    outcome = _OUTCOMES.get(response.outcome, "stored")
    _record(node, queue_id, month, DELIVERED, now, "", outcome)
    return Attempt(queue_id, month, DELIVERED, outcome)


def _record(
    node: Node, queue_id: int, month: str, state: str, now: dt.datetime, error: str, code: str
) -> None:
    with node.unit_of_work(ACTOR) as session:
        entry = session.get_one(EvaluationReportQueue, queue_id, with_for_update=True)
        entry.attempts += 1
        entry.last_attempt_at = now
        entry.state = state
        entry.last_error = error[:2000]
        if state == DELIVERED:
            entry.delivered_at = now
            entry.outcome = code
        session.flush()
        if state != QUEUED:
            audit.record(
                session,
                ACTOR,
                f"evaluation.report-{state}",
                object_ref=f"evaluation-report:{month}",
                detail={"queue_id": queue_id, "answer": code, "error": error[:300]},
            )


@dataclass(frozen=True)
class QueueEntry:
    id: int
    month: str
    state: str
    queued_at: dt.datetime
    attempts: int
    last_error: str
    outcome: str


def queue_entries(node: Node, *, limit: int = 50) -> list[QueueEntry]:
    """The latest queue entries, newest first (for `mash-node report --queue`)."""
    with node.reading() as session:
        return [
            QueueEntry(r.id, r.month, r.state, r.queued_at, r.attempts, r.last_error, r.outcome)
            for r in session.scalars(
                select(EvaluationReportQueue).order_by(EvaluationReportQueue.id.desc()).limit(limit)
            )
        ]
