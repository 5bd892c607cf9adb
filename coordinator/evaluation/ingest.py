"""Storing a borough's monthly figures: checked against mash_common.evaluation's rules (a report
with an unsuppressed count of 1 to 4 is refused whole), then stored so that a resent report
replaces, never adds: one report per borough and month, the one computed last."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coordinator.errors import DomainError, ErrorCode, NotFound
from coordinator.rollout.changes import bump_generation
from coordinator.store.models import (
    Borough,
    EvaluationCount,
    EvaluationReport,
    EvaluationStatistic,
    ReceiptOutcome,
    ReportReceipt,
)
from mash_common.evaluation import MonthlyFigures, parse_month, problems


class ReportRefused(DomainError):
    """A report breaks the figures' rules; nothing of it is stored. `field` is the first
    offending field ("counts[3]"); the message lists every problem."""


def store_report(
    session: Session,
    borough: str,
    figures: MonthlyFigures,
    *,
    envelope: bytes,
    key_id: str,
    now: dt.datetime,
    synthetic: bool = False,
) -> ReceiptOutcome:
    """Store `borough`'s figures for their month, replacing an older report of that month;
    refuse them (ReportRefused) if they break a rule, or if the borough is not one of London's."""
    if session.get(Borough, borough) is None:
        raise NotFound(f"{borough!r} is not one of the boroughs this coordinator tracks")
    latest = dt.date(now.year, now.month, 1)
    found = problems(figures, latest_month=latest)
    if found:
        raise ReportRefused(
            "; ".join(f"{p.field}: {p.message}" for p in found[:10])
            + (f"; and {len(found) - 10} more" if len(found) > 10 else ""),
            field=found[0].field,
            code=ErrorCode.INVALID,
        )
    month = parse_month(figures.month)
    generated = dt.datetime.fromtimestamp(figures.generated_at_ms / 1000, dt.UTC)
    stored = session.scalars(
        select(EvaluationReport)
        .where(EvaluationReport.borough_code == borough, EvaluationReport.month == month)
        .with_for_update()
    ).first()
    if stored is not None and generated < stored.generated_at:
        outcome = ReceiptOutcome.ALREADY_NEWER
    else:
        outcome = ReceiptOutcome.STORED if stored is None else ReceiptOutcome.REPLACED
        if stored is None:
            stored = EvaluationReport(borough_code=borough, month=month)
            session.add(stored)
        else:
            session.execute(delete(EvaluationCount).where(EvaluationCount.report_id == stored.id))
            session.execute(
                delete(EvaluationStatistic).where(EvaluationStatistic.report_id == stored.id)
            )
        stored.schema_version = figures.schema_version
        stored.generated_at = generated
        stored.received_at = now
        stored.key_id = key_id
        stored.software_version = figures.software_version[:40]
        stored.envelope = envelope
        stored.synthetic = synthetic
        session.flush()
        if figures.counts:
            session.execute(
                insert(EvaluationCount),
                [
                    {
                        "report_id": stored.id,
                        "family": c.family,
                        "category": c.category,
                        "value": c.value,
                        "suppressed": c.suppressed,
                    }
                    for c in figures.counts
                ],
            )
        if figures.statistics:
            session.execute(
                insert(EvaluationStatistic),
                [
                    {
                        "report_id": stored.id,
                        "family": s.family,
                        "category": s.category,
                        "value": s.value,
                        "basis": s.basis,
                        "suppressed": s.suppressed,
                    }
                    for s in figures.statistics
                ],
            )
        bump_generation(session)
    session.add(
        ReportReceipt(
            borough_code=borough,
            month=month,
            generated_at=generated,
            received_at=now,
            outcome=outcome,
        )
    )
    session.flush()
    return outcome
