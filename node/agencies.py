"""The agencies that sit in a MASH, as data: the standard set and the shape of a custom one."""

from __future__ import annotations

from dataclasses import dataclass


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
