"""disclosure between boroughs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

After a check, a hub asks the borough that holds something for it (DESIGN section 7): its
requests (outgoing_disclosures) and what comes back (received_items); the requests other
boroughs make of it (incoming_disclosures, their identifying details kept only as they came,
sealed to this node's key), its agencies' decisions item by item (disclosure_items), each step
(disclosure_events), and which referrals each peer has checked here (peer_checks), since a
request is accepted only for one of those.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_checks",
        sa.Column("borough", sa.String(length=40), nullable=False),
        sa.Column("referral_reference", sa.String(length=100), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("borough", "referral_reference", name=op.f("pk_peer_checks")),
    )
    op.create_table(
        "incoming_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker", sa.String(length=40), nullable=False),
        sa.Column("asker_name", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("payload_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "in-review",
                "answered",
                "declined",
                "expired",
                "cancelled",
                name="incomingstate",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "urgency",
            sa.Enum("red", "amber", "green", name="rag", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("referral_reference", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("user_pseudonym", sa.String(length=60), nullable=False),
        sa.Column("sealed_body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=True),
        sa.Column("matched_by", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=80), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed_answer", sa.LargeBinary(), nullable=True),
        sa.Column("answer_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_incoming_disclosures_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_disclosures")),
        sa.UniqueConstraint(
            "asker", "idempotency_key", name=op.f("uq_incoming_disclosures_asker_idempotency_key")
        ),
    )
    with op.batch_alter_table("incoming_disclosures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incoming_disclosures_state_deadline_at"),
            ["state", "deadline_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_incoming_disclosures_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "disclosure_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("source_item_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column(
            "release_state",
            sa.Enum(
                "held", "released", "signposted", name="releasestate", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_disclosure_items_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["incoming_disclosures.id"],
            name=op.f("fk_disclosure_items_disclosure_id_incoming_disclosures"),
        ),
        sa.ForeignKeyConstraint(
            ["source_item_id"],
            ["information_items.id"],
            name=op.f("fk_disclosure_items_source_item_id_information_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_items")),
    )
    with op.batch_alter_table("disclosure_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_items_disclosure_id"), ["disclosure_id"], unique=False
        )

    op.create_table(
        "outgoing_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("referral_person_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "sent",
                "acknowledged",
                "answered",
                "declined",
                "expired",
                "cancelled",
                "refused",
                name="outgoingstate",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "urgency",
            sa.Enum("red", "amber", "green", name="rag", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=200), nullable=False),
        sa.Column("sealed_body", sa.LargeBinary(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancel_delivered", sa.Boolean(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_outgoing_disclosures_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_person_id"],
            ["referral_people.id"],
            name=op.f("fk_outgoing_disclosures_referral_person_id_referral_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_disclosures")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_outgoing_disclosures_idempotency_key")
        ),
    )
    with op.batch_alter_table("outgoing_disclosures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outgoing_disclosures_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outgoing_disclosures_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "disclosure_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outgoing_id", sa.Integer(), nullable=True),
        sa.Column("incoming_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incoming_id"],
            ["incoming_disclosures.id"],
            name=op.f("fk_disclosure_events_incoming_id_incoming_disclosures"),
        ),
        sa.ForeignKeyConstraint(
            ["outgoing_id"],
            ["outgoing_disclosures.id"],
            name=op.f("fk_disclosure_events_outgoing_id_outgoing_disclosures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_events")),
    )
    with op.batch_alter_table("disclosure_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_events_incoming_id"), ["incoming_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_events_outgoing_id"), ["outgoing_id"], unique=False
        )

    op.create_table(
        "received_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("borough_name", sa.String(length=200), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("lawful_basis", sa.String(length=200), nullable=False),
        sa.Column("contact_route", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["outgoing_disclosures.id"],
            name=op.f("fk_received_items_disclosure_id_outgoing_disclosures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_items")),
    )
    with op.batch_alter_table("received_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_received_items_disclosure_id"), ["disclosure_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("received_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_items_disclosure_id"))

    op.drop_table("received_items")
    with op.batch_alter_table("disclosure_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_events_outgoing_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_events_incoming_id"))

    op.drop_table("disclosure_events")
    with op.batch_alter_table("outgoing_disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_disclosures_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outgoing_disclosures_referral_id"))

    op.drop_table("outgoing_disclosures")
    with op.batch_alter_table("disclosure_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_items_disclosure_id"))

    op.drop_table("disclosure_items")
    with op.batch_alter_table("incoming_disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incoming_disclosures_state_deadline_at"))

    op.drop_table("incoming_disclosures")
    op.drop_table("peer_checks")
