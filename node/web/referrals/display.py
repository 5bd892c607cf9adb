"""How the front-door pages show times, dates, deadlines and free text (Jinja filters).

Times are stored in UTC and shown in the hub's time zone (the referral policy's), since that is
the clock the hub's deadlines run on.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint
from markupsafe import Markup, escape

from node.web.services import current_node


def hub_time(value: dt.datetime | None) -> str:
    """'23 November 2026 at 10:00', in the hub's time zone."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_node().config.referrals.timezone))
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def hub_time_short(value: dt.datetime | None) -> str:
    """'25 Nov 2026, 18:31', in the hub's time zone: for tables."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_node().config.referrals.timezone))
    return f"{local.day} {local:%b %Y}, {local:%H:%M}"


def hub_date(value: dt.date | str | None) -> str:
    """'14 March 2015' (from a date, or a YYYY-MM-DD date as another borough sends it)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return f"{value.day} {value:%B %Y}" if value is not None else ""


def iso(value: dt.datetime | dt.date | None) -> str:
    """The machine-readable form for a `<time datetime>` attribute or a sort key."""
    return value.isoformat() if value is not None else ""


def paragraphs(text: str) -> Markup:
    """Free text as paragraphs (blank lines) and line breaks, escaped."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return Markup("").join(
        Markup('<p class="govuk-body">{}</p>').format(
            Markup("<br>").join(escape(line) for line in block.split("\n"))
        )
        for block in blocks
        if block
    )


def agency_name(code: str, names: dict[str, str]) -> str:
    """An agency's name from the page's code-to-name table (its code if the hub has no such)."""
    return names.get(code, code)


FILTERS = {
    "agency_name": agency_name,
    "hub_time": hub_time,
    "hub_time_short": hub_time_short,
    "hub_date": hub_date,
    "iso": iso,
    "paragraphs": paragraphs,
}


def install_filters(blueprint: Blueprint) -> None:
    """Give the app these filters when `blueprint` is registered (each front-door blueprint does,
    so any one of them works alone)."""
    for name, function in FILTERS.items():
        blueprint.add_app_template_filter(function, name)
