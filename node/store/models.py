"""The node's tables: one DeclarativeBase with typed columns; the migrations are compared against it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
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
ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL (and so on every store)
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime, default=utcnow)]
updated_at = Annotated[dt.datetime, mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)]
bool_false = Annotated[bool, mapped_column(default=False)]
# The version of a row people change concurrently: a change names the version it was made from.
version = Annotated[int, mapped_column(Integer, default=1, server_default="1")]
agency_code = Annotated[str, mapped_column(String(40), ForeignKey("agencies.code"))]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    AGENCY_PROFESSIONAL = "agency-professional"
    MASH_MANAGER = "mash-manager"
    NODE_ADMIN = "node-admin"
    AUDITOR = "auditor"
    PARTNERSHIP_ANALYST = "partnership-analyst"  # the strategic assessment's aggregates only


class CandidateStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


def _enum(cls: type[enum.Enum]) -> Any:
    from sqlalchemy import Enum

    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=40)


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_route: Mapped[str] = mapped_column(String(500), default="")
    is_health: Mapped[bool_false]
    standard: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    agency_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("agencies.code"))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool_false]
    # Bumped whenever the user is disabled or signs out everywhere: sessions carry it and die with it.
    session_version: Mapped[int] = mapped_column(default=1)
    totp_secret: Mapped[str | None] = mapped_column(String(128))  # sealed (node.keys)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # refuses a code's reuse
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class Subject(Base):
    """One person as the hub knows them, linked from several agencies' records."""

    __tablename__ = "subjects"
    # Merged subjects only: what deleting a subject checks (migration 0008).
    __table_args__ = (
        Index(
            None,
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[intpk]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    created_at: Mapped[created_at]

    records: Mapped[list[PersonRecord]] = relationship(back_populates="subject")


class PersonRecord(Base):
    """An agency's own record of a person, as imported, with its normalised fields."""

    __tablename__ = "person_records"
    __table_args__ = (
        UniqueConstraint("agency_code", "agency_record_id"),
        Index(None, "date_of_birth"),
        Index(None, "postcode_norm"),
        Index(None, "nhs_number_norm"),
        Index(None, "subject_id"),
    )

    id: Mapped[intpk]
    agency_code: Mapped[agency_code]
    agency_record_id: Mapped[str] = mapped_column(String(100))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    forenames: Mapped[str] = mapped_column(String(200), default="")
    surname: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    nhs_number: Mapped[str] = mapped_column(String(20), default="")
    extra: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    postcode_norm: Mapped[str | None] = mapped_column(String(8))
    nhs_number_norm: Mapped[str | None] = mapped_column(String(10))
    # The values of the record's match_keys rows end to end (16 bytes each): what finds them to
    # delete with the record, instead of an index of millions of rows on match_keys.record_id.
    match_key_values: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    subject: Mapped[Subject | None] = relationship(back_populates="records")
    items: Mapped[list[InformationItem]] = relationship(
        back_populates="record", order_by="InformationItem.occurred_on"
    )


class PersonName(Base):
    """Each name a record carries (its own and its aliases), normalised for tolerant name search."""

    __tablename__ = "person_names"
    __table_args__ = (
        Index(None, "surname_phonetic", "forename_phonetic"),
        Index(None, "record_id"),
    )

    id: Mapped[intpk]
    record_id: Mapped[int] = mapped_column(ForeignKey("person_records.id", ondelete="CASCADE"))
    forename_norm: Mapped[str] = mapped_column(String(200), default="")
    surname_norm: Mapped[str] = mapped_column(String(200))
    forename_phonetic: Mapped[str] = mapped_column(String(40), default="")
    surname_phonetic: Mapped[str] = mapped_column(String(40))
    is_alias: Mapped[bool_false]


class MatchKey(Base):
    """A match key of a record: a digest of normalised fields in one key class (DESIGN section 5).

    Keys are derived data that the importer writes and deletes with their record (found through
    the record's match_key_values), millions at a time, so the table has one B-tree: no foreign
    key, whose check costs a lookup a row, no index by record. On SQLite it is clustered on its
    key (WITHOUT ROWID) instead of a rowid table plus a primary-key index.
    """

    __tablename__ = "match_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key_value: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # No class: a value is a digest of material that starts with its class name (migration 0007).


class InformationItem(Base):
    """A piece of what an agency holds about a person: an incident, a case note, an episode."""

    __tablename__ = "information_items"
    # By date and category: the strategic assessment counts a period's items by category, and
    # the cumulative-harm rules read a window's items of named categories (migration 0014).
    __table_args__ = (
        UniqueConstraint("agency_code", "item_ref"),
        Index(None, "record_id"),
        Index(None, "occurred_on", "category"),
    )

    id: Mapped[intpk]
    agency_code: Mapped[agency_code]
    item_ref: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int] = mapped_column(ForeignKey("person_records.id", ondelete="CASCADE"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    record: Mapped[PersonRecord] = relationship(back_populates="items")


class MatchCandidate(Base):
    """Two subjects that may be one person, for a professional to confirm or reject."""

    __tablename__ = "match_candidates"
    __table_args__ = (UniqueConstraint("subject_a_id", "subject_b_id"), Index(None, "subject_b_id"))

    id: Mapped[intpk]
    subject_a_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    subject_b_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    key_class: Mapped[str] = mapped_column(String(24))
    strength: Mapped[str] = mapped_column(String(20))
    status: Mapped[CandidateStatus] = mapped_column(
        _enum(CandidateStatus), default=CandidateStatus.OPEN
    )
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]


class SubjectMerge(Base):
    """A merge of one subject into another, kept so that it can be undone exactly."""

    __tablename__ = "subject_merges"
    __table_args__ = (Index(None, "survivor_id"), Index(None, "merged_id"))

    id: Mapped[intpk]
    survivor_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    record_ids: Mapped[list[int]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    merged_by: Mapped[str] = mapped_column(String(80))
    merged_at: Mapped[created_at]
    undone_by: Mapped[str | None] = mapped_column(String(80))
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undo_reason: Mapped[str] = mapped_column(Text, default="")


class ImportRun(Base):
    """One agency extract imported: what came in and what changed."""

    __tablename__ = "import_runs"

    id: Mapped[intpk]
    agency_code: Mapped[agency_code]
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int]
    inserted: Mapped[int]
    updated: Mapped[int]
    removed: Mapped[int]
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[created_at]


class AuditEntry(Base):
    """One entry of the append-only audit log, chained by hash to the one before it."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index(None, "at"),)  # exports select a date range

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, microseconds: hashed as written
    actor: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_agency: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(60))
    object_ref: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The one row that serialises appends to the audit log and holds its current head."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed statement of the audit log's size and head hash at a moment."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[intpk]
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[str] = mapped_column(String(32))
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class StoreSetting(Base):
    """A fact about the store as a whole, by name: for now the match-key set its keys come from."""

    __tablename__ = "store_settings"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# --- the MASH front door: contacts, referrals, research, decisions ------------------------------


class Pathway(enum.StrEnum):
    CHILD = "child"
    ADULT = "adult"


class Rag(enum.StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class ReferralStatus(enum.StrEnum):
    AWAITING_TRIAGE = "awaiting-triage"
    AWAITING_LAWFUL_BASIS = "awaiting-lawful-basis"  # adults: no consent or other basis yet
    IN_RESEARCH = "in-research"
    DECIDED = "decided"


class ReleaseState(enum.StrEnum):
    HELD = "held"
    RELEASED = "released"
    SIGNPOSTED = "signposted"


class Outcome(enum.StrEnum):
    STRATEGY_DISCUSSION = "strategy-discussion"
    ASSESSMENT = "assessment"
    EARLY_HELP = "early-help"
    REFERRAL_TO_AGENCY = "referral-to-agency"
    MARAC = "marac"
    NO_FURTHER_ACTION = "no-further-action"


class Referral(Base):
    """A contact received by the hub, and the referral it becomes once the hub acts on it."""

    __tablename__ = "referrals"
    __table_args__ = (Index(None, "status", "deadline_at"),)

    id: Mapped[intpk]
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    pathway: Mapped[Pathway] = mapped_column(_enum(Pathway))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source_kind: Mapped[str] = mapped_column(String(20))  # agency | public | other
    source_agency: Mapped[str | None] = mapped_column(String(40), ForeignKey("agencies.code"))
    source_name: Mapped[str] = mapped_column(String(200), default="")
    source_contact: Mapped[str] = mapped_column(String(300), default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    account: Mapped[str] = mapped_column(Text)
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag))
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    version: Mapped[version]  # moves with every step of the referral's own state
    # The agencies the MASH manager chose at triage to research it (only they see it).
    research_agencies: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    people: Mapped[list[ReferralPerson]] = relationship(
        back_populates="referral", order_by="ReferralPerson.id"
    )


class ReferralPerson(Base):
    """A person named in a contact: a subject of concern or a household member."""

    __tablename__ = "referral_people"
    __table_args__ = (Index(None, "referral_id"), Index(None, "subject_id"))

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    is_subject: Mapped[bool] = mapped_column(default=True)  # False: household member
    relationship_: Mapped[str] = mapped_column("relationship", String(100), default="")
    forenames: Mapped[str] = mapped_column(String(200), default="")
    surname: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")

    referral: Mapped[Referral] = relationship(back_populates="people")


class RagChange(Base):
    """Each setting of a referral's RAG rating, with its reason and the deadline it gave."""

    __tablename__ = "rag_changes"
    __table_args__ = (Index(None, "referral_id"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    rag: Mapped[Rag] = mapped_column(_enum(Rag))
    reason: Mapped[str] = mapped_column(Text)
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[created_at]


class LawfulBasisRecord(Base):
    """For an adult: the consent, or other lawful basis, on which their information is shared."""

    __tablename__ = "lawful_basis_records"
    __table_args__ = (Index(None, "referral_id"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    kind: Mapped[str] = mapped_column(String(20))  # consent | other
    lawful_basis: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[created_at]
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(80))
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")


class ResearchTask(Base):
    """One agency's research on a referral: what it holds on the people named."""

    __tablename__ = "research_tasks"
    __table_args__ = (UniqueConstraint("referral_id", "agency_code"), Index(None, "agency_code"))

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    agency_code: Mapped[agency_code]
    opened_at: Mapped[created_at]
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[version]


class Contribution(Base):
    """An item an agency contributes to a referral, with the release decision of its owner."""

    __tablename__ = "contributions"
    __table_args__ = (Index(None, "referral_id"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    agency_code: Mapped[agency_code]
    source_item_id: Mapped[int | None] = mapped_column(ForeignKey("information_items.id"))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    agency_reference: Mapped[str] = mapped_column(String(100), default="")
    release_state: Mapped[ReleaseState] = mapped_column(
        _enum(ReleaseState), default=ReleaseState.HELD
    )
    release_reason: Mapped[str] = mapped_column(Text, default="")
    lawful_basis: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    version: Mapped[version]  # moves with its release decision


class Decision(Base):
    """The MASH manager's decision on a referral."""

    __tablename__ = "decisions"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), unique=True)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    referred_to: Mapped[str] = mapped_column(String(200), default="")
    rationale: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    breached: Mapped[bool_false]
    # The agencies whose research was still open when the manager decided (empty: none was).
    research_open: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class Intervention(Base):
    """Work a partner agency is asked to do as a result of the decision."""

    __tablename__ = "interventions"
    __table_args__ = (Index(None, "referral_id"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    agency_code: Mapped[agency_code]
    description: Mapped[str] = mapped_column(Text)


class ReferralEvent(Base):
    """One step in a referral's timeline: who did what, when."""

    __tablename__ = "referral_events"
    __table_args__ = (Index(None, "referral_id", "at"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    at: Mapped[created_at]
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)


# --- web sign-in -------------------------------------------------------------------------------


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
    """A sign-in attempt, kept to rate-limit guessing by username and by address."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool_false]
    at: Mapped[created_at]


# --- the federation: this node's published index, and what it hears from and asks of peers --


class OprfIndexEntry(Base):
    """A match key held here, with its PRF under one epoch's OPRF key (RFC 9497): the published
    index filter is built from these. `prf` is the first 8 bytes of the 64-byte PRF output, all
    the filter keeps; it never leaves the node except inside the filter."""

    __tablename__ = "oprf_index"
    __table_args__ = ({"sqlite_with_rowid": False},)

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_value: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    prf: Mapped[bytes] = mapped_column(LargeBinary(8))


class OprfIndexChange(Base):
    """A PRF added to or removed from an epoch's index since its published snapshot: peers fetch
    these as deltas (the id is the delta's sequence number)."""

    __tablename__ = "oprf_index_changes"
    # AUTOINCREMENT on SQLite: ids never go back, even when the changes a snapshot includes
    # are deleted, since they are the sequence numbers peers follow.
    __table_args__ = (Index(None, "epoch", "id"), {"sqlite_autoincrement": True})

    id: Mapped[intpk]
    epoch: Mapped[int]
    prf: Mapped[bytes] = mapped_column(LargeBinary(8))
    added: Mapped[bool]


class OprfSnapshot(Base):
    """The index filter published for an epoch: its file in the data directory, the last change
    it includes, how many keys it holds and its digest (all signed when it is sent)."""

    __tablename__ = "oprf_snapshots"

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int]
    size: Mapped[int]
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    file_name: Mapped[str] = mapped_column(String(200))
    built_at: Mapped[created_at]


class SeenNonce(Base):
    """A nonce a peer borough has signed a request with, kept until its window has passed, so a
    replayed request is refused even after a restart."""

    __tablename__ = "seen_nonces"
    __table_args__ = (Index(None, "expires_at_ms"),)

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(64), primary_key=True)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)


class PeerEvaluations(Base):
    """How many PRF evaluations a peer borough has asked for on one day (each is one guess)."""

    __tablename__ = "peer_evaluations"

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    evaluations: Mapped[int] = mapped_column(Integer, default=0)


class BoroughCheck(Base):
    """What one borough answered when this hub checked one person of a referral with it."""

    __tablename__ = "borough_checks"
    __table_args__ = (Index(None, "referral_id", "checked_at"),)

    id: Mapped[intpk]
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    referral_person_id: Mapped[int | None] = mapped_column(ForeignKey("referral_people.id"))
    borough: Mapped[str] = mapped_column(String(40))
    borough_name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(
        String(20)
    )  # holds | holds-nothing | not-answered | refused
    key_class: Mapped[str] = mapped_column(String(60), default="")
    strength: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
    checked_by: Mapped[str] = mapped_column(String(80))
    checked_at: Mapped[created_at]


class PeerCheck(Base):
    """The latest check a peer borough made of this node under a referral reference: a
    disclosure request is accepted only for a referral the borough has checked here."""

    __tablename__ = "peer_checks"

    borough: Mapped[str] = mapped_column(String(40), primary_key=True)
    referral_reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- disclosure between boroughs (DESIGN section 7) -------------------------------------------


class OutgoingState(enum.StrEnum):
    """A request this hub made of another borough."""

    DRAFT = "draft"  # recorded here, not yet delivered
    SENT = "sent"  # delivery attempted, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"  # the holder has it, and its deadline
    ANSWERED = "answered"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUSED = "refused"  # the holder would not take it (no check of its own, over its limit)


class IncomingState(enum.StrEnum):
    """A request another borough made of this hub."""

    RECEIVED = "received"
    IN_REVIEW = "in-review"
    ANSWERED = "answered"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OutgoingDisclosure(Base):
    """This hub's request to another borough for what it holds on a referral's subject."""

    __tablename__ = "outgoing_disclosures"
    __table_args__ = (Index(None, "referral_id"), Index(None, "state", "next_attempt_at"))

    id: Mapped[intpk]
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    referral_person_id: Mapped[int] = mapped_column(ForeignKey("referral_people.id"))
    holder: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[OutgoingState] = mapped_column(_enum(OutgoingState))
    urgency: Mapped[Rag] = mapped_column(_enum(Rag))
    reason: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(String(200))
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)  # RequestBody sealed to the holder
    cancel_reason: Mapped[str | None] = mapped_column(Text)  # withdrawn: why, told the holder
    cancel_delivered: Mapped[bool_false]
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    matched: Mapped[bool | None]
    answer_note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[version]


class ReceivedItem(Base):
    """What another borough released (in full) or signposted in its answer to this hub."""

    __tablename__ = "received_items"
    __table_args__ = (Index(None, "disclosure_id"),)

    id: Mapped[intpk]
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("outgoing_disclosures.id"))
    borough_name: Mapped[str] = mapped_column(String(200))
    released: Mapped[bool]
    agency: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    lawful_basis: Mapped[str] = mapped_column(String(200), default="")
    contact_route: Mapped[str] = mapped_column(String(300), default="")


class IncomingDisclosure(Base):
    """Another borough's request to this hub. What identifies the person is kept only as it came,
    sealed to this node's key, and opened when someone working the request reads it."""

    __tablename__ = "incoming_disclosures"
    __table_args__ = (
        UniqueConstraint("asker", "idempotency_key"),
        Index(None, "state", "deadline_at"),
        Index(None, "subject_id"),
    )

    id: Mapped[intpk]
    asker: Mapped[str] = mapped_column(String(40))
    asker_name: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    payload_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[IncomingState] = mapped_column(_enum(IncomingState))
    urgency: Mapped[Rag] = mapped_column(_enum(Rag))
    referral_reference: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(500))
    user_pseudonym: Mapped[str] = mapped_column(String(60))
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[created_at]
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    matched: Mapped[bool | None]  # None: not decided; False: nobody here matches
    matched_by: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str | None] = mapped_column(String(80))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sealed_answer: Mapped[bytes | None] = mapped_column(LargeBinary)  # AnswerBody, to the asker
    answer_delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[version]


class DisclosureItem(Base):
    """One of this hub's agencies' items on the matched subject of an incoming request, with
    that agency's decision: it leaves in full only if released (as local release rules say)."""

    __tablename__ = "disclosure_items"
    __table_args__ = (Index(None, "disclosure_id"),)

    id: Mapped[intpk]
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("incoming_disclosures.id"))
    agency_code: Mapped[agency_code]
    source_item_id: Mapped[int | None] = mapped_column(ForeignKey("information_items.id"))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200), default="")
    release_state: Mapped[ReleaseState] = mapped_column(
        _enum(ReleaseState), default=ReleaseState.HELD
    )
    decided: Mapped[bool_false]
    reason: Mapped[str] = mapped_column(Text, default="")
    lawful_basis: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[version]


class DisclosureEvent(Base):
    """One step of a disclosure on either side: who did what, when (shown step by step)."""

    __tablename__ = "disclosure_events"
    __table_args__ = (Index(None, "outgoing_id"), Index(None, "incoming_id"))

    id: Mapped[intpk]
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_disclosures.id"))
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_disclosures.id"))
    at: Mapped[created_at]
    actor: Mapped[str] = mapped_column(String(120))
    step: Mapped[str] = mapped_column(String(40))  # what happened, in one word: no content
    summary: Mapped[str] = mapped_column(Text)  # in words for the hub, with reasons


# --- evaluation reports to the coordinator ------------------------------------------------------


class EvaluationReportQueue(Base):
    """A month's evaluation figures waiting to be sent to the coordinator, or sent: the figures
    as computed (a `mash.coordinator.v1.MonthlyFigures` message, small counts already suppressed),
    signed afresh at each attempt; sent oldest first."""

    __tablename__ = "evaluation_report_queue"
    __table_args__ = (Index(None, "delivered_at", "id"),)

    id: Mapped[intpk]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    figures: Mapped[bytes] = mapped_column(LargeBinary)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[created_at]
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued | delivered | refused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="")  # the coordinator's answer


# --- cumulative harm: flags the hub's rules raise on a person -----------------------------------


class HarmFlagState(enum.StrEnum):
    OPEN = "open"  # on the queue
    DISMISSED = "dismissed"  # the MASH manager dismissed it, with a reason
    CLEARED = "cleared"  # the rule no longer fires (events left its window, or were removed)


class HarmFlag(Base):
    """A cumulative-harm rule fired for a person: the rule as it stood, and the events that raised
    it (contacts by reference, agencies' items by id, each with its agency and date)."""

    __tablename__ = "harm_flags"
    __table_args__ = (Index(None, "subject_id", "rule_key"), Index(None, "state"))

    id: Mapped[intpk]
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    rule_key: Mapped[str] = mapped_column(String(60))
    rules_version: Mapped[int] = mapped_column(Integer)
    rule_title: Mapped[str] = mapped_column(String(100))
    rule_description: Mapped[str] = mapped_column(String(500))
    state: Mapped[HarmFlagState] = mapped_column(_enum(HarmFlagState), default=HarmFlagState.OPEN)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    raised_on: Mapped[str] = mapped_column(String(20))  # intake | import | nightly
    raised_at: Mapped[created_at]
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dismissed_by: Mapped[str | None] = mapped_column(String(80))
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dismissal_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[version]
