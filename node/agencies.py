"""The agencies that sit in a MASH, as data: the standard set and the shape of a custom one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.store.models import Agency


@dataclass(frozen=True)
class AgencyDefinition:
    code: str
    name: str
    contact_route: str = ""
    is_health: bool = False
    standard: bool = True


def _standard(*agencies: AgencyDefinition) -> dict[str, AgencyDefinition]:
    return {agency.code: agency for agency in agencies}


STANDARD_AGENCIES: dict[str, AgencyDefinition] = _standard(
    AgencyDefinition("police", "Police", "MASH police desk"),
    AgencyDefinition("childrens-social-care", "Children's social care", "MASH social work team"),
    AgencyDefinition("health", "Health", "MASH health lead (Caldicott guidance)", is_health=True),
    AgencyDefinition("mental-health", "Mental health", "MASH mental health practitioner"),
    AgencyDefinition("education", "Education", "MASH education officer"),
    AgencyDefinition("housing", "Housing", "MASH housing officer"),
    AgencyDefinition("yot", "Youth offending team", "MASH YOT officer"),
    AgencyDefinition("probation", "Probation", "MASH probation officer"),
    AgencyDefinition("adult-social-care", "Adult social care", "MASH adult social care lead"),
)


def sync_agencies(session: Session, agencies: Sequence[AgencyDefinition]) -> list[str]:
    """Make the agencies table say what the configuration says; an agency dropped from the
    configuration is marked inactive, never deleted, so its records keep their owner.
    Returns the codes added."""
    existing = {agency.code: agency for agency in session.scalars(select(Agency))}
    added = []
    for definition in agencies:
        row = existing.pop(definition.code, None)
        if row is None:
            row = Agency(code=definition.code)
            session.add(row)
            added.append(definition.code)
        row.name = definition.name
        row.contact_route = definition.contact_route
        row.is_health = definition.is_health
        row.standard = definition.standard
        row.active = True
    for row in existing.values():
        row.active = False
    session.flush()
    return added
