"""cumulative harm flags

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

The flags the hub's cumulative-harm rules raise on a person, with the events that raised them,
and their dismissal (by the MASH manager, with a reason) or clearing; agencies' items indexed by
date and category, which the rules and the strategic assessment read by period.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harm_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=60), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("rule_title", sa.String(length=100), nullable=False),
        sa.Column("rule_description", sa.String(length=500), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open", "dismissed", "cleared", name="harmflagstate", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("raised_on", sa.String(length=20), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by", sa.String(length=80), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissal_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_harm_flags_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_flags")),
    )
    with op.batch_alter_table("harm_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harm_flags_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_harm_flags_subject_id_rule_key"),
            ["subject_id", "rule_key"],
            unique=False,
        )
    with op.batch_alter_table("information_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_information_items_occurred_on_category"),
            ["occurred_on", "category"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("information_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_information_items_occurred_on_category"))
    with op.batch_alter_table("harm_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harm_flags_subject_id_rule_key"))
        batch_op.drop_index(batch_op.f("ix_harm_flags_state"))
    op.drop_table("harm_flags")
