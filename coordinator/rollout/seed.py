"""Seeding the store from the founding report's facts (coordinator/rollout/london.py) at `init`:
what is missing is added, what is there is kept (run again, it changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.rollout import london
from coordinator.rollout.changes import bump_generation
from coordinator.store.models import (
    Agreement,
    AgreementKind,
    Borough,
    BoroughPartner,
    ConsultationStatus,
    DataGeneration,
    FrameworkLevel,
    PartnerAgency,
    ProgrammeSettings,
    Stage,
    Wave,
)


@dataclass(frozen=True)
class Seeded:
    boroughs: int
    waves: int


def seed(session: Session) -> Seeded:
    """Add the authorities, waves, framework levels, partner agencies, each borough's three
    agreements and partner rows, and the programme settings, where missing."""
    if session.get(DataGeneration, 1) is None:
        session.add(DataGeneration(id=1, generation=0))
    if session.get(ProgrammeSettings, 1) is None:
        session.add(
            ProgrammeSettings(
                id=1,
                police_cost_min=london.POLICE_COST_MIN,
                police_cost_max=london.POLICE_COST_MAX,
                amber_days=london.AMBER_DAYS,
            )
        )
    levels = set(session.scalars(select(FrameworkLevel.level)))
    for level, name, description in london.FRAMEWORK_LEVELS:
        if level not in levels:
            session.add(FrameworkLevel(level=level, name=name, description=description))
    agencies = set(session.scalars(select(PartnerAgency.code)))
    for position, (code, name) in enumerate(london.PARTNER_AGENCIES):
        if code not in agencies:
            session.add(PartnerAgency(code=code, name=name, position=position))
    waves = {wave.number: wave for wave in session.scalars(select(Wave))}
    added_waves = 0
    for seed_wave in london.WAVES:
        if seed_wave.number not in waves:
            waves[seed_wave.number] = Wave(
                number=seed_wave.number,
                name=seed_wave.name,
                description=seed_wave.description,
                planned_hubs=seed_wave.planned_hubs,
                is_pilot=seed_wave.is_pilot,
                target_date=seed_wave.target_date,
            )
            session.add(waves[seed_wave.number])
            added_waves += 1
    session.flush()
    existing = set(session.scalars(select(Borough.code)))
    added = 0
    rest_of_london = waves[london.WAVES[-1].number]
    for authority in london.AUTHORITIES:
        if authority.code in existing:
            continue
        session.add(
            Borough(
                code=authority.code,
                name=authority.name,
                short_name=authority.short_name,
                grid_column=authority.column,
                grid_row=authority.row,
                considering=authority.considering,
                stage=Stage.CONSIDERING if authority.considering else Stage.NOT_STARTED,
                # The fourteen considering the model are the pilot and wave 3, as the project
                # team decides; every other authority is in the rest of London.
                wave_id=None if authority.considering else rest_of_london.id,
            )
        )
        added += 1
    session.flush()
    _agreements_and_partners(session)
    if added or added_waves:
        bump_generation(session)
    session.flush()
    return Seeded(boroughs=added, waves=added_waves)


def _agreements_and_partners(session: Session) -> None:
    codes = list(session.scalars(select(Borough.code)))
    agreements = {
        (b, k) for b, k in session.execute(select(Agreement.borough_code, Agreement.kind))
    }
    partners = {
        (b, a)
        for b, a in session.execute(select(BoroughPartner.borough_code, BoroughPartner.agency_code))
    }
    agencies = list(session.scalars(select(PartnerAgency.code)))
    for code in codes:
        for kind in AgreementKind:
            if (code, kind) not in agreements:
                session.add(
                    Agreement(
                        borough_code=code,
                        kind=kind,
                        consultation=(
                            ConsultationStatus.NOT_STARTED if kind is AgreementKind.EIA else None
                        ),
                    )
                )
        for agency in agencies:
            if (code, agency) not in partners:
                session.add(BoroughPartner(borough_code=code, agency_code=agency))
    session.flush()
