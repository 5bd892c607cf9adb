"""The evaluation figures a hub node sends the coordinator each month (DESIGN.md section 9): the
families of counts and statistics, their categories, the small-number rule, and the checks a
report must pass. The node computes them (node/evaluation.py); the coordinator refuses a report
that breaks these rules and shows the figures (coordinator/evaluation/).

Schema version 1. A count is a family ("contacts.source") and a category ("police"); a count of
1 to 4 is suppressed at the node (sent as suppressed, value 0, shown as "fewer than 5"). A
statistic (a mean or median turnaround) is over `basis` items and is suppressed when its basis
is 1 to 4. No family describes a person: each is a count of contacts, decisions, interventions,
checks or people, or a statistic over them, for one borough and one calendar month.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mash_common.envelope import Signer, new_header, seal

SCHEMA_VERSION = 1
SUPPRESS_BELOW = 5  # counts 1 .. SUPPRESS_BELOW - 1 are never sent or shown
FEWER_THAN = f"fewer than {SUPPRESS_BELOW}"
MAX_COUNT = 10_000_000
MAX_STATISTIC = 100_000.0
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CATEGORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+-]{0,59}$")
RAGS = ("red", "amber", "green")


@dataclass(frozen=True)
class Family:
    """A family of figures: what it counts, and its categories (with `open_categories` a node
    may send others too, such as a custom agency's code)."""

    name: str
    title: str
    description: str
    categories: tuple[str, ...]
    open_categories: bool = False
    statistic: bool = False
    unit: str = ""


def _families(*families: Family) -> Mapping[str, Family]:
    return MappingProxyType({family.name: family for family in families})


AGENCIES = (
    "police",
    "childrens-social-care",
    "health",
    "mental-health",
    "education",
    "housing",
    "yot",
    "probation",
    "adult-social-care",
)
OUTCOMES = (
    "strategy-discussion",
    "assessment",
    "early-help",
    "referral-to-agency",
    "marac",
    "no-further-action",
)
AGE_BANDS = ("0-4", "5-9", "10-15", "16-17", "18-24", "25-64", "65-plus", "unknown")

FAMILIES: Mapping[str, Family] = _families(
    Family("contacts.total", "Contacts", "Contacts received in the month", ("all",)),
    Family(
        "contacts.source",
        "Contacts by source",
        "Contacts received, by who sent them: a partner agency, the public or other",
        (*AGENCIES, "public", "other"),
        open_categories=True,
    ),
    Family(
        "contacts.concern",
        "Contacts by concern",
        "Contacts received, by each concern category they name (a contact may name several)",
        (
            "neglect",
            "physical-abuse",
            "sexual-abuse",
            "emotional-abuse",
            "domestic-abuse",
            "child-sexual-exploitation",
            "child-criminal-exploitation",
            "missing",
            "radicalisation",
            "mental-health",
            "substance-misuse",
            "female-genital-mutilation",
            "honour-based-abuse",
            "modern-slavery",
            "self-neglect",
            "financial-abuse",
        ),
        open_categories=True,
    ),
    Family(
        "contacts.pathway",
        "Contacts by pathway",
        "Contacts received about children and about adults",
        ("child", "adult"),
    ),
    Family(
        "contacts.rag",
        "RAG mix",
        "Contacts received, by their RAG rating (not yet rated at the end of the month)",
        (*RAGS, "not-rated"),
    ),
    Family(
        "contacts.re_referral",
        "Repeat contacts",
        "Contacts about a child or adult already named in a contact in the 12 months before",
        ("within-12-months",),
    ),
    Family(
        "referrals.total",
        "Referrals",
        "Decisions made in the month with an onward response (any outcome but no further action)",
        ("all",),
    ),
    Family(
        "decisions.outcome",
        "Decisions by outcome",
        "Decisions made in the month, by outcome",
        OUTCOMES,
        open_categories=True,
    ),
    Family("decisions.rag", "Decisions by RAG", "Decisions made in the month, by RAG", RAGS),
    Family(
        "decisions.within_deadline",
        "Decided within the deadline",
        "Decisions made in the month by their RAG deadline",
        RAGS,
    ),
    Family(
        "decisions.breached",
        "Decided after the deadline",
        "Decisions made in the month after their RAG deadline",
        RAGS,
    ),
    Family(
        "interventions.agency",
        "Interventions by partner agency",
        "Interventions partner agencies were asked to carry out by the month's decisions",
        AGENCIES,
        open_categories=True,
    ),
    Family(
        "checks.existence",
        "Cross-borough existence checks",
        "Existence checks this hub asked of other boroughs, those answered, and those that found "
        "a borough holding something",
        ("asked", "answered", "holds"),
    ),
    Family(
        "disclosures.requests",
        "Cross-borough disclosures",
        "Disclosure requests this hub made and received, and how the received ones ended",
        ("made", "received", "approved", "declined", "expired"),
    ),
    Family(
        "equality.age_band",
        "Age of the people of concern",
        "Children and adults of concern named in the month's contacts, by age when contacted",
        AGE_BANDS,
    ),
    Family(
        "equality.gender",
        "Gender of the people of concern",
        "Children and adults of concern named in the month's contacts, by gender as recorded",
        ("female", "male", "other", "not-recorded"),
    ),
    Family(
        "equality.ethnicity",
        "Ethnicity of the people of concern",
        "Children and adults of concern, by ethnic group (ONS 2021 high-level groups)",
        ("asian", "black", "mixed", "white", "other", "not-recorded"),
    ),
    Family(
        "equality.disability",
        "Disability of the people of concern",
        "Children and adults of concern, by whether a disability is recorded",
        ("yes", "no", "not-recorded"),
    ),
    Family(
        "turnaround.mean_working_days",
        "Mean turnaround",
        "Mean time from contact to decision, in working days (the hub's working hours over the "
        "length of its working day), of the month's decisions, by RAG",
        RAGS,
        statistic=True,
        unit="working days",
    ),
    Family(
        "turnaround.median_working_days",
        "Median turnaround",
        "Median time from contact to decision, in working days, of the month's decisions, by RAG",
        RAGS,
        statistic=True,
        unit="working days",
    ),
    Family(
        "turnaround.median_hours",
        "Median turnaround in hours",
        "Median elapsed time from contact to decision, in hours, of the month's decisions, by RAG",
        RAGS,
        statistic=True,
        unit="hours",
    ),
    Family(
        "disclosures.median_hours",
        "Median disclosure turnaround",
        "Median hours from receiving a disclosure request to answering it",
        ("all",),
        statistic=True,
        unit="hours",
    ),
)

LABELS: Mapping[str, str] = MappingProxyType(
    {
        "all": "All",
        "police": "Police",
        "childrens-social-care": "Children's social care",
        "health": "Health",
        "mental-health": "Mental health",
        "education": "Education",
        "housing": "Housing",
        "yot": "Youth offending team",
        "probation": "Probation",
        "adult-social-care": "Adult social care",
        "ambulance-service": "Ambulance service",
        "public": "Member of the public",
        "other": "Other",
        "child": "Children",
        "adult": "Adults",
        "red": "Red",
        "amber": "Amber",
        "green": "Green",
        "not-rated": "Not yet rated",
        "within-12-months": "Within 12 months",
        "strategy-discussion": "Strategy discussion (s47)",
        "assessment": "Assessment (s17 / Care Act)",
        "early-help": "Early help",
        "referral-to-agency": "Referral to another agency",
        "marac": "MARAC",
        "no-further-action": "No further action",
        "asked": "Asked",
        "answered": "Answered",
        "holds": "Found a borough holding",
        "made": "Made",
        "received": "Received",
        "approved": "Approved",
        "declined": "Declined",
        "expired": "Expired",
        "65-plus": "65 and over",
        "unknown": "Not known",
        "female": "Female",
        "male": "Male",
        "not-recorded": "Not recorded",
        "asian": "Asian",
        "black": "Black",
        "mixed": "Mixed",
        "white": "White",
        "yes": "Yes",
        "no": "No",
        "modern-slavery": "Trafficking and modern slavery",
        "honour-based-abuse": "Honour-based abuse",
        "child-sexual-exploitation": "Child sexual exploitation",
        "child-criminal-exploitation": "Child criminal exploitation",
        "female-genital-mutilation": "Female genital mutilation",
    }
)


def label(category: str) -> str:
    """The words for a category code ("domestic-abuse" -> "Domestic abuse")."""
    known = LABELS.get(category)
    if known is not None:
        return known
    if re.fullmatch(r"\d+-\d+", category):
        return category.replace("-", " to ")
    return category.replace("-", " ").capitalize()


def suppress(count: int) -> tuple[int, bool]:
    """The (value, suppressed) a node sends for a count: 1-4 become (0, True)."""
    if count < 0:
        raise ValueError(f"a count cannot be negative, got {count}")
    if 0 < count < SUPPRESS_BELOW:
        return 0, True
    return count, False


def is_disclosive(value: int, suppressed: bool) -> bool:
    """Whether a count as sent would reveal a small number (1-4 unsuppressed)."""
    return not suppressed and 0 < value < SUPPRESS_BELOW


def parse_month(text: str) -> dt.date:
    """The first day of a month written YYYY-MM; ValueError otherwise."""
    found = MONTH_PATTERN.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a month written YYYY-MM, such as 2026-11")
    return dt.date(int(found[1]), int(found[2]), 1)


def month_text(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_name(month: dt.date) -> str:
    return month.strftime("%B %Y")


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from `first` to `last` (first days), both included."""
    months = []
    month = dt.date(first.year, first.month, 1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a report: the field it is about ("counts[3]") and why."""

    field: str
    message: str


@dataclass(frozen=True)
class CountFigure:
    family: str
    category: str
    value: int
    suppressed: bool = False


@dataclass(frozen=True)
class StatisticFigure:
    family: str
    category: str
    value: float
    basis: int
    suppressed: bool = False


@dataclass(frozen=True)
class MonthlyFigures:
    """One borough's figures for one month, as a node sends them."""

    month: str
    counts: tuple[CountFigure, ...]
    statistics: tuple[StatisticFigure, ...] = ()
    schema_version: int = SCHEMA_VERSION
    generated_at_ms: int = 0
    software_version: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def problems(figures: MonthlyFigures, *, latest_month: dt.date | None = None) -> list[Problem]:
    """Everything that keeps a report from being accepted, each naming its field; none if the
    report may be stored. `latest_month`: the last month a report may be about (the current
    one, by the receiver's clock)."""
    found: list[Problem] = []
    if figures.schema_version != SCHEMA_VERSION:
        found.append(
            Problem(
                "schema_version",
                f"schema version {figures.schema_version} is not known here "
                f"(this coordinator reads {SCHEMA_VERSION})",
            )
        )
    try:
        month = parse_month(figures.month)
    except ValueError as exc:
        found.append(Problem("month", str(exc)))
    else:
        if month.year < 2000:
            found.append(Problem("month", f"{figures.month} is before 2000"))
        if latest_month is not None and month > latest_month:
            found.append(Problem("month", f"{figures.month} has not begun yet"))
    if figures.generated_at_ms <= 0:
        found.append(Problem("generated_at_ms", "the report must say when it was computed"))
    found += _count_problems(figures.counts)
    found += _statistic_problems(figures.statistics)
    return found


def _category_problem(
    where: str, family_name: str, category: str, *, statistic: bool
) -> Problem | None:
    family = FAMILIES.get(family_name)
    if family is None or family.statistic != statistic:
        kind = "statistic" if statistic else "count"
        return Problem(where, f"{family_name!r} is not a family of {kind}s of schema version 1")
    if not CATEGORY_PATTERN.match(category):
        return Problem(where, f"{category!r} is not a category code (lower-case, digits, '-')")
    if not family.open_categories and category not in family.categories:
        return Problem(where, f"{category!r} is not a category of {family_name}")
    return None


def _count_problems(counts: Iterable[CountFigure]) -> list[Problem]:
    found: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, count in enumerate(counts):
        where = f"counts[{index}]"
        problem = _category_problem(where, count.family, count.category, statistic=False)
        if problem is not None:
            found.append(problem)
            continue
        key = (count.family, count.category)
        name = f"{count.family}/{count.category}"
        if key in seen:
            found.append(Problem(where, f"{name} is given twice"))
        seen.add(key)
        if count.suppressed and count.value != 0:
            found.append(
                Problem(where, f"{name} is suppressed but carries the value {count.value}")
            )
        elif is_disclosive(count.value, count.suppressed):
            found.append(
                Problem(
                    where,
                    f"{name} is {count.value}: counts from 1 to {SUPPRESS_BELOW - 1} must be "
                    "suppressed before they leave the node",
                )
            )
        elif not 0 <= count.value <= MAX_COUNT:
            found.append(Problem(where, f"{name} is {count.value}, outside 0-{MAX_COUNT:,}"))
    return found


def _statistic_problems(statistics: Iterable[StatisticFigure]) -> list[Problem]:
    found: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, statistic in enumerate(statistics):
        where = f"statistics[{index}]"
        problem = _category_problem(where, statistic.family, statistic.category, statistic=True)
        if problem is not None:
            found.append(problem)
            continue
        key = (statistic.family, statistic.category)
        name = f"{statistic.family}/{statistic.category}"
        if key in seen:
            found.append(Problem(where, f"{name} is given twice"))
        seen.add(key)
        if statistic.suppressed:
            if statistic.value != 0 or statistic.basis != 0:
                found.append(Problem(where, f"{name} is suppressed but carries a value or basis"))
        elif is_disclosive(statistic.basis, False):
            found.append(
                Problem(
                    where,
                    f"{name} is over {statistic.basis} items: a statistic over 1 to "
                    f"{SUPPRESS_BELOW - 1} must be suppressed before it leaves the node",
                )
            )
        elif not (math.isfinite(statistic.value) and 0 <= statistic.value <= MAX_STATISTIC):
            found.append(Problem(where, f"{name} is {statistic.value}, not a usable figure"))
        elif statistic.basis == 0 and statistic.value != 0:
            found.append(Problem(where, f"{name} has a value but is over no items"))
        elif not 0 <= statistic.basis <= MAX_COUNT:
            found.append(Problem(where, f"{name} is over {statistic.basis} items: too many"))
    return found


# --- on the wire (protos/mash/coordinator/v1/reports.proto) ---------------------------------------

REPORT_PAYLOAD = "mash.coordinator.v1.ReportPayload"
REPORT_KEY_SET_VERSION = 0  # a report carries no match keys


def to_proto(figures: MonthlyFigures) -> Any:
    """The figures as a `mash.coordinator.v1.MonthlyFigures` message."""
    from protos.mash.coordinator.v1 import reports_pb2

    return reports_pb2.MonthlyFigures(
        month=figures.month,
        schema_version=figures.schema_version,
        generated_at_ms=figures.generated_at_ms,
        software_version=figures.software_version,
        counts=[
            reports_pb2.Count(
                family=c.family, category=c.category, value=c.value, suppressed=c.suppressed
            )
            for c in figures.counts
        ],
        statistics=[
            reports_pb2.Statistic(
                family=s.family,
                category=s.category,
                value=s.value,
                basis=s.basis,
                suppressed=s.suppressed,
            )
            for s in figures.statistics
        ],
    )


def from_proto(message: Any) -> MonthlyFigures:
    """The figures of a `mash.coordinator.v1.MonthlyFigures` message."""
    return MonthlyFigures(
        month=message.month,
        schema_version=message.schema_version,
        generated_at_ms=message.generated_at_ms,
        software_version=message.software_version,
        counts=tuple(
            CountFigure(c.family, c.category, c.value, c.suppressed) for c in message.counts
        ),
        statistics=tuple(
            StatisticFigure(s.family, s.category, s.value, s.basis, s.suppressed)
            for s in message.statistics
        ),
    )


def sealed_report(
    figures: MonthlyFigures,
    signer: Signer,
    borough: str,
    key_id: str,
    *,
    clock: Callable[[], float] = time.time,
) -> Any:
    """A `SubmitReportRequest` carrying the figures in an envelope signed now, with a fresh
    nonce: what a node sends (a queued report is signed afresh at each attempt)."""
    from protos.mash.coordinator.v1 import reports_pb2

    payload = reports_pb2.ReportPayload(
        header=new_header(borough, key_set_version=REPORT_KEY_SET_VERSION, clock=clock),
        figures=to_proto(figures),
    )
    envelope = seal(payload.SerializeToString(), REPORT_PAYLOAD, signer, borough, key_id)
    return reports_pb2.SubmitReportRequest(envelope=envelope)
