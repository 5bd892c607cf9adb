"""Words and numbers as the pages show them: dates, months, pounds, counts (a suppressed count is
"fewer than 5"), and the names of roles, stages and states. Installed as Jinja filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from coordinator.rollout import words
from coordinator.users import ROLE_NAMES
from mash_common.evaluation import FEWER_THAN, label


def date(value: dt.date | dt.datetime | None, empty: str = "Not set") -> str:
    if value is None:
        return empty
    return f"{value.day} {value:%B %Y}"


def short_date(value: dt.date | None, empty: str = "–") -> str:
    if value is None:
        return empty
    return f"{value.day} {value:%b %Y}"


def when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y at %H:%M} UTC"


def short_when(value: dt.datetime | None) -> str:
    """A moment in a crowded table: "6 Dec, 10:05 UTC"."""
    if value is None:
        return ""
    return f"{value.day} {value:%b, %H:%M} UTC"


def month(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%B %Y}"


def short_month(value: dt.date) -> str:
    return f"{value:%b %Y}"


def pounds(value: int | float | None) -> str:
    return "–" if value is None else f"£{value:,.0f}"


def number(value: int | float | None, places: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{places}f}"


def percent(value: float | None, places: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{places}f}%"


def count(value: int, suppressed: bool | int = False) -> str:
    """One borough's count: "fewer than 5" when suppressed."""
    return FEWER_THAN if suppressed and not value else f"{value:,}"


def install(app: Flask) -> None:
    filters: dict[str, Any] = {
        "date": date,
        "short_date": short_date,
        "when": when,
        "short_when": short_when,
        "month": month,
        "short_month": short_month,
        "pounds": pounds,
        "number": number,
        "percent": percent,
        "count": count,
        "category": label,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals.update(
        ROLE_NAMES=ROLE_NAMES,
        STAGE_NAMES=words.STAGE_NAMES,
        AGREEMENT_NAMES=words.AGREEMENT_NAMES,
        AGREEMENT_STATUS_NAMES=words.AGREEMENT_STATUS_NAMES,
        CONSULTATION_NAMES=words.CONSULTATION_NAMES,
        ARRANGEMENT_NAMES=words.ARRANGEMENT_NAMES,
        FUNDING_KIND_NAMES=words.FUNDING_KIND_NAMES,
        RAG_NAMES=words.RAG_NAMES,
        FEWER_THAN=FEWER_THAN,
    )
