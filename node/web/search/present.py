"""How a subject is shown on a page: agency names for the holdings, and the viewer's own records
laid out as rows (dates written out, NHS numbers grouped), built as plain values for templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from node.agencies import STANDARD_AGENCIES, AgencyDefinition
from node.search import ItemView, RecordView, SubjectView

SENSITIVITY_TAGS = {  # sensitivity -> (label, GOV.UK tag colour class)
    "standard": ("Standard", "govuk-tag--grey"),
    "sensitive": ("Sensitive", "govuk-tag--orange"),
    "highly-sensitive": ("Highly sensitive", "govuk-tag--red"),
}


@dataclass(frozen=True)
class Holding:
    """One agency's holding on a subject: how many records, never what they say."""

    agency_code: str
    agency_name: str
    count: int
    own: bool
    contact_route: str

    @property
    def label(self) -> str:
        return f"{self.agency_name} ({self.count})"


@dataclass(frozen=True)
class Row:
    key: str
    value: str


@dataclass(frozen=True)
class ItemCard:
    item_ref: str
    occurred_on: str
    occurred_iso: str
    category: str
    summary: str
    detail: tuple[str, ...]  # paragraphs
    sensitivity: str
    sensitivity_class: str


@dataclass(frozen=True)
class RecordCard:
    heading: str
    rows: tuple[Row, ...]
    items: tuple[ItemCard, ...]

    @property
    def summary_rows(self) -> list[dict[str, dict[str, str]]]:
        """The rows as the GOV.UK summary list macro takes them (text, so escaped)."""
        return [{"key": {"text": row.key}, "value": {"text": row.value}} for row in self.rows]


@dataclass(frozen=True)
class SubjectCard:
    subject_id: int
    title: str
    holdings: tuple[Holding, ...]
    records: tuple[RecordCard, ...]

    @property
    def others(self) -> tuple[Holding, ...]:
        """The agencies whose records on this subject the viewer does not see."""
        return tuple(holding for holding in self.holdings if not holding.own)


def agency_directory(configured: Sequence[AgencyDefinition]) -> dict[str, AgencyDefinition]:
    """The hub's agencies by code; standard agencies no longer configured keep their names."""
    return {**STANDARD_AGENCIES, **{agency.code: agency for agency in configured}}


def holdings(
    counts: Mapping[str, int], agencies: Mapping[str, AgencyDefinition], own_agency: str | None
) -> tuple[Holding, ...]:
    """The agencies holding records, the viewer's own first, then by name."""
    found = [
        Holding(
            agency_code=code,
            agency_name=agencies[code].name if code in agencies else code,
            count=count,
            own=code == own_agency,
            contact_route=agencies[code].contact_route if code in agencies else "",
        )
        for code, count in counts.items()
        if count
    ]
    return tuple(sorted(found, key=lambda holding: (not holding.own, holding.agency_name)))


def subject_card(
    view: SubjectView, agencies: Mapping[str, AgencyDefinition], own_agency: str | None
) -> SubjectCard:
    records = tuple(_record_card(record, agencies) for record in view.own_records)
    title = f"Subject {view.subject_id}"
    if view.own_records:
        first = view.own_records[0]
        title += f": {_name(first.forenames, first.surname)}"
    return SubjectCard(
        subject_id=view.subject_id,
        title=title,
        holdings=holdings(view.holdings, agencies, own_agency),
        records=records,
    )


def long_date(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def nhs_grouped(digits: str) -> str:
    """An NHS number as people write it, 3-3-4 ("943 476 5919"); anything else as it came."""
    compact = "".join(digits.split())
    if len(compact) == 10 and compact.isdigit():
        return f"{compact[:3]} {compact[3:6]} {compact[6:]}"
    return digits


def _name(forenames: str, surname: str) -> str:
    return " ".join(part for part in (forenames.strip(), surname.strip()) if part)


def _record_card(record: RecordView, agencies: Mapping[str, AgencyDefinition]) -> RecordCard:
    agency = agencies.get(record.agency_code)
    rows = [
        Row("Name", _name(record.forenames, record.surname)),
        Row("Also known as", ", ".join(record.aliases)),
        Row("Date of birth", long_date(record.date_of_birth)),
        Row("Gender", record.gender),
        Row("Address", record.address),
        Row("Postcode", record.postcode),
        Row("NHS number", nhs_grouped(record.nhs_number)),
    ]
    rows += [Row(_field_name(key), value) for key, value in sorted(record.extra.items())]
    return RecordCard(
        heading=f"{agency.name if agency else record.agency_code} record {record.agency_record_id}",
        rows=tuple(row if row.value else Row(row.key, "Not recorded") for row in rows),
        items=tuple(
            _item_card(item)
            for item in sorted(record.items, key=lambda item: item.occurred_on, reverse=True)
        ),
    )


def _item_card(item: ItemView) -> ItemCard:
    label, colour = SENSITIVITY_TAGS.get(item.sensitivity, (item.sensitivity, "govuk-tag--grey"))
    paragraphs = tuple(line.strip() for line in item.detail.splitlines() if line.strip())
    return ItemCard(
        item_ref=item.item_ref,
        occurred_on=long_date(item.occurred_on),
        occurred_iso=item.occurred_on.isoformat(),
        category=item.category,
        summary=item.summary,
        detail=paragraphs,
        sensitivity=label,
        sensitivity_class=colour,
    )


def _field_name(key: str) -> str:
    """A free field's column name as a label: "school_name" -> "School name"."""
    words = key.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else key
