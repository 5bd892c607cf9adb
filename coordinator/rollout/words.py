"""How the plan's states are named to people (services, pages and reports use these)."""

from __future__ import annotations

from coordinator.store.models import (
    AgreementKind,
    AgreementStatus,
    Arrangement,
    ConsultationStatus,
    FundingKind,
    Stage,
)

STAGE_NAMES: dict[Stage, str] = {
    Stage.NOT_STARTED: "Not yet engaged",
    Stage.CONSIDERING: "Considering the model",
    Stage.GOOD_PRACTICE_VISITED: "Good practice visited",
    Stage.FRAMEWORK_ASSESSED: "Progression framework assessed",
    Stage.AGREEMENTS_SIGNED: "Agreements signed",
    Stage.INFRASTRUCTURE_READY: "Infrastructure ready",
    Stage.HUB_LIVE: "Hub live",
    Stage.INTERIM_REVIEW: "Interim review",
    Stage.EVALUATED: "Evaluated",
}
LIVE_STAGES = frozenset({Stage.HUB_LIVE, Stage.INTERIM_REVIEW, Stage.EVALUATED})

AGREEMENT_NAMES: dict[AgreementKind, str] = {
    AgreementKind.ISA: "Information Sharing Agreement",
    AgreementKind.PARTNERSHIP: "Partnership Agreement",
    AgreementKind.EIA: "Equality Impact Assessment",
}
AGREEMENT_STATUS_NAMES: dict[AgreementStatus, str] = {
    AgreementStatus.NOT_STARTED: "Not started",
    AgreementStatus.DRAFTING: "Drafting",
    AgreementStatus.IN_CONSULTATION: "In consultation",
    AgreementStatus.AWAITING_SIGNATURE: "Awaiting signature",
    AgreementStatus.SIGNED: "Signed",
}
CONSULTATION_NAMES: dict[ConsultationStatus, str] = {
    ConsultationStatus.NOT_STARTED: "Not started",
    ConsultationStatus.OPEN: "Open",
    ConsultationStatus.CLOSED: "Closed",
}
ARRANGEMENT_NAMES: dict[Arrangement, str] = {
    Arrangement.CO_LOCATED: "Co-located",
    Arrangement.VIRTUAL: "Linked virtually",
    Arrangement.NOT_INVOLVED: "Not involved yet",
}
FUNDING_KIND_NAMES: dict[FundingKind, str] = {
    FundingKind.POLICE: "Police cost",
    FundingKind.PARTNER: "Partner contribution",
}
RAG_NAMES = {
    "complete": "Complete",
    "red": "Overdue",
    "amber": "Due soon",
    "green": "On track",
}
