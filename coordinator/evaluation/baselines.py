"""A borough's pre-go-live baseline, entered by the project team from a snapshot audit of its
contacts (the method of London's 2013 MASH evaluation): per RAG level, contacts a month and the
mean and median turnaround in working days, with the audit's period and sample size."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordinator.access import Actor, require_editor
from coordinator.errors import ChangedSince, DomainError, NotFound
from coordinator.rollout import changes
from coordinator.store.models import Baseline, Borough, utcnow
from mash_common.evaluation import RAGS


class BaselineError(DomainError):
    """A baseline is refused as entered (`field` says which input)."""


@dataclass(frozen=True)
class RagBaseline:
    contacts: float | None  # contacts a month
    mean_days: float | None  # working days from contact to decision
    median_days: float | None


@dataclass(frozen=True)
class BaselineFields:
    period_from: dt.date | None
    period_to: dt.date | None
    sample_size: int | None
    red: RagBaseline
    amber: RagBaseline
    green: RagBaseline
    notes: str = ""


@dataclass(frozen=True)
class BaselineView:
    borough_code: str
    period_from: dt.date
    period_to: dt.date
    sample_size: int | None
    by_rag: dict[str, RagBaseline]
    notes: str
    version: int
    updated_by: str
    updated_at: dt.datetime

    @property
    def contacts(self) -> float:
        return sum(r.contacts or 0 for r in self.by_rag.values())

    def mean_days_weighted(self) -> float | None:
        """The mean turnaround over all RAG levels, weighted by their contacts."""
        total = self.contacts
        if not total:
            return None
        return sum((r.contacts or 0) * (r.mean_days or 0) for r in self.by_rag.values()) / total


def view(row: Baseline) -> BaselineView:
    return BaselineView(
        borough_code=row.borough_code,
        period_from=row.period_from,
        period_to=row.period_to,
        sample_size=row.sample_size,
        by_rag={
            rag: RagBaseline(
                getattr(row, f"{rag}_contacts"),
                getattr(row, f"{rag}_mean_days"),
                getattr(row, f"{rag}_median_days"),
            )
            for rag in RAGS
        },
        notes=row.notes,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def baseline(session: Session, code: str) -> BaselineView | None:
    row = session.get(Baseline, code)
    return view(row) if row is not None else None


def set_baseline(
    session: Session,
    actor: Actor,
    code: str,
    version: int | None,
    fields: BaselineFields,
    *,
    today: dt.date | None = None,
) -> None:
    """Enter or change a borough's baseline. `version`: the one the form was made from, or None
    when the form was made when there was none (refused if one has been entered since)."""
    require_editor(actor)
    borough = session.get(Borough, code)
    if borough is None:
        raise NotFound(f"no borough {code!r}")
    today = today or dt.datetime.now(dt.UTC).date()
    values = _values(fields, today)
    row = session.get(Baseline, code, with_for_update=True)
    what = f"{borough.name}'s baseline"
    if row is None:
        row = Baseline(borough_code=code, updated_by=actor.username, updated_at=utcnow(), **values)
        session.add(row)
        session.flush()
        changes.record(
            session,
            actor,
            borough=code,
            entity="baseline",
            entity_id=code,
            action="created",
            summary=f"{borough.name}: baseline entered",
            fields={name: [None, changes.shown(value)] for name, value in values.items() if value},
        )
        return
    if version is None:
        raise ChangedSince(what, row.updated_by, row.updated_at, row.version)
    changes.require_version(session, row, version, what, "baseline", code)
    changes.apply(
        session,
        actor,
        row,
        values,
        entity="baseline",
        entity_id=code,
        borough=code,
        summary=f"{borough.name}: baseline changed",
    )


def _values(fields: BaselineFields, today: dt.date) -> dict[str, object]:
    if fields.period_from is None:
        raise BaselineError("enter the first day of the snapshot audit", field="period_from")
    if fields.period_to is None:
        raise BaselineError("enter the last day of the snapshot audit", field="period_to")
    if not dt.date(2000, 1, 1) <= fields.period_from <= today:
        raise BaselineError("must be a day between 2000 and today", field="period_from")
    if not fields.period_from <= fields.period_to <= today:
        raise BaselineError(
            "must be on or after the first day, and not in the future", field="period_to"
        )
    if fields.sample_size is not None and not 1 <= fields.sample_size <= 1_000_000:
        raise BaselineError("must be a number of contacts from 1 to 1,000,000", field="sample_size")
    values: dict[str, object] = {
        "period_from": fields.period_from,
        "period_to": fields.period_to,
        "sample_size": fields.sample_size,
    }
    for rag in RAGS:
        given: RagBaseline = getattr(fields, rag)
        for name, value, limit, what in (
            ("contacts", given.contacts, 100_000.0, "contacts a month"),
            ("mean_days", given.mean_days, 365.0, "working days"),
            ("median_days", given.median_days, 365.0, "working days"),
        ):
            field = f"{rag}_{name}"
            if value is None:
                raise BaselineError(f"enter the {rag} {what.replace('working ', '')}", field=field)
            if not (math.isfinite(value) and 0 <= value <= limit):
                raise BaselineError(
                    f"must be a number of {what} from 0 to {limit:,.0f}", field=field
                )
            values[field] = round(float(value), 2)
    notes = (fields.notes or "").strip()
    if len(notes) > 2000:
        raise BaselineError("must be 2,000 characters or fewer", field="notes")
    values["notes"] = notes
    return values
