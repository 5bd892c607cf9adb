"""The coordinator's tables: one DeclarativeBase with typed columns; the migrations are compared
against it.

Nothing here describes a child or an adult: the tables hold boroughs and their rollout plan,
agreements, costs and baselines, aggregate monthly figures (counts and statistics, small counts
suppressed by the nodes), the history of every change, and the coordinator's own staff users.
Every row people edit carries a `version`, bumped by each change, so an edit made from an older
version is refused instead of overwriting another's (coordinator/rollout/changes.py).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is needed")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime, default=utcnow)]
bool_false = Annotated[bool, mapped_column(default=False)]
version = Annotated[int, mapped_column(default=1)]
borough_code = Annotated[str, mapped_column(String(40), ForeignKey("boroughs.code"))]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum]) -> Any:
    from sqlalchemy import Enum

    return Enum(
        cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=40,
        create_constraint=True,
        name=cls.__name__.lower(),
    )


class Role(enum.StrEnum):
    EDITOR = "project-team-editor"  # edits the rollout plan and the baselines
    VIEWER = "viewer"  # sees everything, changes nothing
    ADMINISTRATOR = "administrator"  # the coordinator's users; sees everything, edits no plan


class Stage(enum.StrEnum):
    """Where a borough stands on the road to a live hub, in order."""

    NOT_STARTED = "not-started"
    CONSIDERING = "considering"
    GOOD_PRACTICE_VISITED = "good-practice-visited"
    FRAMEWORK_ASSESSED = "framework-assessed"
    AGREEMENTS_SIGNED = "agreements-signed"
    INFRASTRUCTURE_READY = "infrastructure-ready"
    HUB_LIVE = "hub-live"
    INTERIM_REVIEW = "interim-review"
    EVALUATED = "evaluated"


class AgreementKind(enum.StrEnum):
    ISA = "isa"  # Information Sharing Agreement
    PARTNERSHIP = "partnership"  # Partnership Agreement
    EIA = "eia"  # Equality Impact Assessment (with its local consultation)


class AgreementStatus(enum.StrEnum):
    NOT_STARTED = "not-started"
    DRAFTING = "drafting"
    IN_CONSULTATION = "in-consultation"
    AWAITING_SIGNATURE = "awaiting-signature"
    SIGNED = "signed"


class ConsultationStatus(enum.StrEnum):
    NOT_STARTED = "not-started"
    OPEN = "open"
    CLOSED = "closed"


class Arrangement(enum.StrEnum):
    """How a partner agency takes part in a borough's hub."""

    CO_LOCATED = "co-located"
    VIRTUAL = "virtual"
    NOT_INVOLVED = "not-involved"


class FundingKind(enum.StrEnum):
    POLICE = "police"  # the police cost of the hub (£50,000–£100,000 by the programme's range)
    PARTNER = "partner"  # a partner's contribution


class ReceiptOutcome(enum.StrEnum):
    STORED = "stored"  # the first report of its borough and month
    REPLACED = "replaced"  # a newer report replaced the stored one
    ALREADY_NEWER = "already-newer"  # an older report than the stored one: kept the stored one


# --- the coordinator's users and their sign-in -----------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool_false]
    session_version: Mapped[int] = mapped_column(default=1)
    totp_secret: Mapped[str | None] = mapped_column(String(128))  # sealed (coordinator.keys)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebSession(Base):
    """A signed-in browser session, held on the server so that it can be ended there."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[intpk]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_version: Mapped[int]
    second_factor_done: Mapped[bool_false]
    created_at: Mapped[created_at]
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInAttempt(Base):
    """A sign-in attempt, kept to slow down guessing by username and by address."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool_false]
    at: Mapped[created_at]


class AccessEvent(Base):
    """Who signed in or out, failed to, or was refused a page or a step: the coordinator's
    security log (changes to the plan are in `changes`)."""

    __tablename__ = "access_events"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[intpk]
    at: Mapped[created_at]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- the rollout plan ---------------------------------------------------------------------------


class ProgrammeSettings(Base):
    """The programme's editable figures (one row): the police cost range per hub and how close a
    milestone's due date must be to turn amber."""

    __tablename__ = "programme_settings"
    __table_args__ = (CheckConstraint("police_cost_min <= police_cost_max", name="police_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    police_cost_min: Mapped[int] = mapped_column(Integer)
    police_cost_max: Mapped[int] = mapped_column(Integer)
    amber_days: Mapped[int] = mapped_column(Integer)
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80), default="system:init")
    updated_at: Mapped[created_at]


class Wave(Base):
    """A group of boroughs whose hubs go live together."""

    __tablename__ = "waves"

    id: Mapped[intpk]
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    planned_hubs: Mapped[int | None] = mapped_column(Integer)
    is_pilot: Mapped[bool_false]
    target_start: Mapped[dt.date | None] = mapped_column(Date)
    target_date: Mapped[dt.date | None] = mapped_column(Date)  # every hub of the wave live by
    actual_date: Mapped[dt.date | None] = mapped_column(Date)  # the wave's last hub went live
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80), default="system:init")
    updated_at: Mapped[created_at]


class FrameworkLevel(Base):
    """A level of the progression framework, from standard provision to full co-location."""

    __tablename__ = "framework_levels"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")


class PartnerAgency(Base):
    """An agency that can take part in a hub (co-located or virtually)."""

    __tablename__ = "partner_agencies"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Borough(Base):
    """One of London's 33 local authorities (the City of London included), and its hub."""

    __tablename__ = "boroughs"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(4))  # on the map of London
    grid_column: Mapped[int] = mapped_column(Integer)
    grid_row: Mapped[int] = mapped_column(Integer)
    considering: Mapped[bool_false]  # one of the boroughs considering the model
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"))
    stage: Mapped[Stage] = mapped_column(_enum(Stage), default=Stage.NOT_STARTED)
    target_go_live: Mapped[dt.date | None] = mapped_column(Date)
    went_live_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80), default="system:init")
    updated_at: Mapped[created_at]

    wave: Mapped[Wave | None] = relationship()


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (Index(None, "borough_code"), Index(None, "due_on"))

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[created_at]


class FrameworkAssessment(Base):
    """A borough's progression-framework level as assessed on a day (the history is the list)."""

    __tablename__ = "framework_assessments"
    __table_args__ = (Index(None, "borough_code", "assessed_on"),)

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(ForeignKey("framework_levels.level"))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[created_at]


class BoroughPartner(Base):
    """How one agency takes part in one borough's hub."""

    __tablename__ = "borough_partners"
    __table_args__ = (UniqueConstraint("borough_code", "agency_code"),)

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    agency_code: Mapped[str] = mapped_column(String(40), ForeignKey("partner_agencies.code"))
    arrangement: Mapped[Arrangement] = mapped_column(
        _enum(Arrangement), default=Arrangement.NOT_INVOLVED
    )
    since: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80), default="system:init")
    updated_at: Mapped[created_at]


class Agreement(Base):
    """A borough's Information Sharing Agreement, Partnership Agreement or Equality Impact
    Assessment (the last with its local consultation, monitored centrally)."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("borough_code", "kind"),)

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    kind: Mapped[AgreementKind] = mapped_column(_enum(AgreementKind))
    status: Mapped[AgreementStatus] = mapped_column(
        _enum(AgreementStatus), default=AgreementStatus.NOT_STARTED
    )
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    review_on: Mapped[dt.date | None] = mapped_column(Date)
    consultation: Mapped[ConsultationStatus | None] = mapped_column(_enum(ConsultationStatus))
    consultation_opened_on: Mapped[dt.date | None] = mapped_column(Date)
    consultation_closed_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80), default="system:init")
    updated_at: Mapped[created_at]


class Funding(Base):
    """What one funder pays towards one borough's hub a year: the police cost or a partner's
    contribution."""

    __tablename__ = "funding"
    __table_args__ = (
        Index(None, "borough_code"),
        CheckConstraint("amount_pounds >= 0", name="amount_not_negative"),
    )

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    kind: Mapped[FundingKind] = mapped_column(_enum(FundingKind))
    funder: Mapped[str] = mapped_column(String(200))
    amount_pounds: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[created_at]


class Baseline(Base):
    """A borough's pre-go-live baseline from a snapshot audit of its contacts: per RAG level,
    contacts a month and the mean and median turnaround in working days."""

    __tablename__ = "baselines"

    borough_code: Mapped[str] = mapped_column(
        String(40), ForeignKey("boroughs.code"), primary_key=True
    )
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    red_contacts: Mapped[float] = mapped_column(Float)
    red_mean_days: Mapped[float] = mapped_column(Float)
    red_median_days: Mapped[float] = mapped_column(Float)
    amber_contacts: Mapped[float] = mapped_column(Float)
    amber_mean_days: Mapped[float] = mapped_column(Float)
    amber_median_days: Mapped[float] = mapped_column(Float)
    green_contacts: Mapped[float] = mapped_column(Float)
    green_mean_days: Mapped[float] = mapped_column(Float)
    green_median_days: Mapped[float] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[created_at]


class Change(Base):
    """One change to the plan: who, when, what, and each field before and after."""

    __tablename__ = "changes"
    __table_args__ = (Index(None, "borough_code", "at"), Index(None, "entity", "entity_id"))

    id: Mapped[intpk]
    at: Mapped[created_at]
    actor: Mapped[str] = mapped_column(String(80))
    borough_code: Mapped[str | None] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))  # milestone, borough, wave, ...
    entity_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))  # created | changed | removed
    summary: Mapped[str] = mapped_column(String(300))
    # {field: [before, after]}, values as shown to people
    fields: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)


class DataGeneration(Base):
    """One row counting the changes to what the dashboards show: bumped by every change to the
    plan, a baseline or the figures, so cached pages know when they are stale."""

    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


# --- the evaluation figures the nodes send ------------------------------------------------------


class EvaluationReport(Base):
    """A borough's figures for one month, as its node last sent them (a newer report replaces
    an older one), with the signed envelope they came in."""

    __tablename__ = "evaluation_reports"
    __table_args__ = (UniqueConstraint("borough_code", "month"), Index(None, "month"))

    id: Mapped[intpk]
    borough_code: Mapped[borough_code]
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    schema_version: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    software_version: Mapped[str] = mapped_column(String(40), default="")
    envelope: Mapped[bytes] = mapped_column(LargeBinary)  # as received: signature and payload
    synthetic: Mapped[bool_false]  # made by `mash-coordinator demo-data`, not sent by a node

    counts: Mapped[list[EvaluationCount]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    statistics: Mapped[list[EvaluationStatistic]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class EvaluationCount(Base):
    """One count of a report: a family ("contacts.source") and a category ("police"). A
    suppressed count (1-4 at the node) has value 0 and is shown as "fewer than 5"."""

    __tablename__ = "evaluation_counts"
    __table_args__ = (
        Index(None, "family", "category"),
        CheckConstraint("value = 0 OR value >= 5", name="no_small_counts"),
        CheckConstraint("NOT suppressed OR value = 0", name="suppressed_has_no_value"),
    )

    report_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_reports.id", ondelete="CASCADE"), primary_key=True
    )
    family: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[bool_false]


class EvaluationStatistic(Base):
    """A statistic of a report (a mean or median turnaround) over `basis` items; suppressed
    when its basis is 1-4."""

    __tablename__ = "evaluation_statistics"
    __table_args__ = (CheckConstraint("basis = 0 OR basis >= 5", name="no_small_basis"),)

    report_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_reports.id", ondelete="CASCADE"), primary_key=True
    )
    family: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    basis: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[bool_false]


class ReportReceipt(Base):
    """Each report accepted over gRPC, and what it did to the stored figures."""

    __tablename__ = "report_receipts"
    __table_args__ = (Index(None, "borough_code", "month"),)

    id: Mapped[intpk]
    borough_code: Mapped[str] = mapped_column(String(40))
    month: Mapped[dt.date] = mapped_column(Date)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[created_at]
    outcome: Mapped[ReceiptOutcome] = mapped_column(_enum(ReceiptOutcome))


class SeenNonce(Base):
    """A nonce a node's signed request carried, kept until the request would be stale anyway, so
    a replay is refused even after the coordinator restarts."""

    __tablename__ = "seen_nonces"
    __table_args__ = (Index(None, "expires_at_ms"),)

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(64), primary_key=True)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)


# --- the federation's nodes: enrolment and the directory -----------------------------------------


class EnrolmentToken(Base):
    """A one-time token that lets one borough's node enrol until it expires. Its secret is kept
    sealed (coordinator.keys), never in the clear; `used_at` is set by the one enrolment."""

    __tablename__ = "enrolment_tokens"
    __table_args__ = (Index(None, "borough"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    borough: Mapped[str] = mapped_column(String(40))
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class EnrolledNode(Base):
    """A borough's node as it enrolled: its endpoint, public keys and certificate, and whether
    the project team has revoked it (and why). The directory lists every row."""

    __tablename__ = "enrolled_nodes"

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(300))
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    box_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    oprf_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    oprf_epoch: Mapped[int] = mapped_column(Integer)
    certificate_pem: Mapped[str] = mapped_column(Text)
    certificate_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    software_version: Mapped[str] = mapped_column(String(40), default="")
    enrolled_at: Mapped[created_at]
    token_id: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))


class DirectoryVersion(Base):
    """The directory's version (one row), bumped by every enrolment and revocation."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[created_at]


# --- the nodes' health and the audit witness -----------------------------------------------------


class NodeHeartbeat(Base):
    """A node's latest heartbeat: versions, counts and times, never anything about a person."""

    __tablename__ = "node_heartbeats"

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    software_version: Mapped[str] = mapped_column(String(40))
    key_set_version: Mapped[int] = mapped_column(Integer)
    filter_epoch: Mapped[int] = mapped_column(Integer)
    filter_size: Mapped[int] = mapped_column(BigInteger)
    reports_queued: Mapped[int] = mapped_column(Integer)
    requests_undelivered: Mapped[int] = mapped_column(Integer)
    requests_open: Mapped[int] = mapped_column(Integer)
    answers_undelivered: Mapped[int] = mapped_column(Integer)
    last_import_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    directory_version: Mapped[int] = mapped_column(BigInteger)


class WitnessedCheckpoint(Base):
    """A node's signed audit checkpoint as the coordinator received it; `inconsistency` says why
    it contradicts one held before (a smaller log, or the same size with another head)."""

    __tablename__ = "witnessed_checkpoints"
    __table_args__ = (
        UniqueConstraint("borough", "size", "head_hash", "signed_at"),
        Index(None, "borough", "size"),
    )

    id: Mapped[intpk]
    borough: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[str] = mapped_column(String(32))
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    received_at: Mapped[created_at]
    inconsistency: Mapped[str | None] = mapped_column(String(300))
