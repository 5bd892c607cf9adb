"""What several pages draw alike: the stage colours of the map, the charts of the rollout (the
waves' timeline, the stage counts, the map of London), and a page part kept until the data
changes. Blueprints import these; they never import each other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence

from flask import url_for
from markupsafe import Markup

from coordinator.rollout.changes import generation
from coordinator.rollout.read import BoroughSummary, StageCount, WaveView
from coordinator.rollout.words import STAGE_NAMES
from coordinator.store.models import Stage
from coordinator.web.cache import part, value
from coordinator.web.formatters import date, short_date
from coordinator.web.services import reading
from mash_common.web import charts

# Fill and text colour of each stage on the map: light to dark as a borough nears a live hub.
STAGE_COLOURS: dict[Stage, tuple[str, str]] = {
    Stage.NOT_STARTED: ("#f3f2f1", "#0b0c0c"),
    Stage.CONSIDERING: ("#d2e2f1", "#0b0c0c"),
    Stage.GOOD_PRACTICE_VISITED: ("#a4c5e6", "#0b0c0c"),
    Stage.FRAMEWORK_ASSESSED: ("#6fa3d3", "#0b0c0c"),
    Stage.AGREEMENTS_SIGNED: ("#1d70b8", "#ffffff"),
    Stage.INFRASTRUCTURE_READY: ("#003078", "#ffffff"),
    Stage.HUB_LIVE: ("#00703c", "#ffffff"),
    Stage.INTERIM_REVIEW: ("#005a30", "#ffffff"),
    Stage.EVALUATED: ("#0b0c0c", "#ffffff"),
}
WAVE_COLOURS = ("#1d70b8", "#4c2c92", "#28a197", "#b58840", "#d53880", "#505a5f")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def cached(key: Hashable, draw: Callable[[], str]) -> Markup:
    """A page part drawn by `draw`, kept until the data generation moves on."""
    with reading() as session:
        current = generation(session)
    return part(key, current, draw)


def cached_bytes(key: Hashable, make: Callable[[], bytes]) -> bytes:
    """Bytes made from the data (a PDF), kept until the data generation moves on."""
    with reading() as session:
        current = generation(session)
    return value(key, current, make)


def wave_timeline(waves: Sequence[WaveView], on: dt.date) -> charts.Chart:
    spans = [
        charts.Span(
            label=w.name,
            start=w.target_start
            or (min((b.went_live_on for b in w.boroughs if b.went_live_on), default=None)),
            end=w.target_date,
            events=tuple(
                (b.went_live_on, f"{b.name} went live on {date(b.went_live_on)}")
                for b in w.boroughs
                if b.went_live_on
            ),
            colour=WAVE_COLOURS[i % len(WAVE_COLOURS)],
        )
        for i, w in enumerate(waves)
    ]
    rows = tuple(
        (
            w.name,
            str(len(w.boroughs)),
            "–" if w.planned_hubs is None else str(w.planned_hubs),
            short_date(w.target_date),
            str(w.live_count),
            short_date(w.first_live),
            short_date(w.actual_date or w.last_live),
        )
        for w in waves
    )
    return charts.timeline(
        "wave-timeline",
        "The waves on a timeline",
        "Each wave's planned span to its target date, each hub's go-live, and today.",
        spans,
        charts.Table(
            "The waves",
            ("Wave", "Boroughs", "Hubs planned", "Target", "Hubs live", "First live", "All live"),
            rows,
        ),
        today=on,
    )


def stage_chart(counts: Sequence[StageCount]) -> charts.Chart:
    return charts.bar_list(
        "stage-counts",
        "Boroughs at each stage",
        "How many of London's 33 local authorities are at each stage on the road to a live hub.",
        [(c.name, c.count, STAGE_COLOURS[c.stage][0] if c.count else "#ffffff") for c in counts],
        charts.Table(
            "Boroughs at each stage",
            ("Stage", "Boroughs"),
            tuple((c.name, str(c.count)) for c in counts),
        ),
    )


def london_map(boroughs: Sequence[BoroughSummary]) -> charts.Chart:
    tiles = [
        charts.Tile(
            column=b.column,
            row=b.row,
            short=b.short_name,
            name=b.name,
            href=url_for("boroughs.show", code=b.code),
            fill=STAGE_COLOURS[b.stage][0],
            text=STAGE_COLOURS[b.stage][1],
            status=STAGE_NAMES[b.stage],
        )
        for b in boroughs
    ]
    present = [stage for stage in Stage if any(b.stage is stage for b in boroughs)]
    return charts.tile_map(
        "london-map",
        "London's 33 local authorities by stage",
        "A map of London with one square for each local authority, placed roughly where it "
        "lies and coloured by its stage. Each square links to the borough's page.",
        tiles,
        charts.Table(
            "Every authority, its wave and stage",
            ("Authority", "Wave", "Stage", "Went live"),
            tuple(
                (
                    b.name,
                    b.wave_name or "Not yet in a wave",
                    STAGE_NAMES[b.stage],
                    short_date(b.went_live_on),
                )
                for b in boroughs
            ),
            numeric_from=4,
        ),
        [(STAGE_NAMES[stage], STAGE_COLOURS[stage][0]) for stage in present],
    )


# --- the history of changes, in words -----------------------------------------------------------

FIELD_NAMES = {
    "stage": "Stage",
    "wave_id": "Wave",
    "target_go_live": "Target go-live",
    "went_live_on": "Went live",
    "notes": "Notes",
    "title": "Milestone",
    "due_on": "Due",
    "completed_on": "Done",
    "assessed_on": "Assessed on",
    "level": "Level",
    "arrangement": "Arrangement",
    "since": "Since",
    "status": "Status",
    "started_on": "Work started",
    "signed_on": "Signed",
    "review_on": "Review due",
    "consultation": "Consultation",
    "consultation_opened_on": "Consultation opened",
    "consultation_closed_on": "Consultation closed",
    "kind": "Kind",
    "funder": "Who pays",
    "amount_pounds": "Amount a year",
    "name": "Name",
    "description": "Description",
    "planned_hubs": "Hubs planned",
    "target_start": "Planned start",
    "target_date": "Target date",
    "actual_date": "Actual date",
    "police_cost_min": "Lowest police cost",
    "police_cost_max": "Highest police cost",
    "amber_days": "Amber within (days)",
    "period_from": "Audit from",
    "period_to": "Audit to",
    "sample_size": "Contacts audited",
}


def _value_words(name: str, value: object, waves: dict[int, str]) -> str:
    from coordinator.rollout import words

    if value is None or value == "":
        return "(none)"
    if name == "wave_id" and isinstance(value, int):
        return waves.get(value, f"wave {value}")
    if name.endswith("_pounds") or name.startswith("police_cost"):
        return f"£{value:,}" if isinstance(value, int) else str(value)
    text = str(value)
    for table in (
        words.STAGE_NAMES,
        words.AGREEMENT_STATUS_NAMES,
        words.CONSULTATION_NAMES,
        words.ARRANGEMENT_NAMES,
        words.FUNDING_KIND_NAMES,
    ):
        for key, shown in table.items():
            if key.value == text and name in (
                "stage",
                "status",
                "consultation",
                "arrangement",
                "kind",
            ):
                return shown
    try:
        return date(dt.date.fromisoformat(text))
    except ValueError:
        pass
    if len(text) > 120:
        return text[:117] + "…"
    return text


def change_lines(
    fields: dict[str, list[object]], waves: dict[int, str], action: str = "changed"
) -> list[str]:
    """Each field as "Name: before → after"; what was created as "Name: value", what was removed
    as "Name: value (removed)"."""
    lines = []
    for name, (before, after) in fields.items():
        label = FIELD_NAMES.get(name, name.replace("_", " ").capitalize())
        if before is None and action == "created":
            lines.append(f"{label}: {_value_words(name, after, waves)}")
        elif after is None and action == "removed":
            lines.append(f"{label}: {_value_words(name, before, waves)} (removed)")
        else:
            lines.append(
                f"{label}: {_value_words(name, before, waves)} → {_value_words(name, after, waves)}"
            )
    return lines
