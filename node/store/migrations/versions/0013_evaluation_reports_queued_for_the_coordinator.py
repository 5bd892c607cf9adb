"""evaluation reports queued for the coordinator

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

A month's evaluation figures are queued before they are sent, and stay queued while the
coordinator cannot be reached; they are sent oldest first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_report_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figures", sa.LargeBinary(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_report_queue")),
    )
    with op.batch_alter_table("evaluation_report_queue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_report_queue_delivered_at_id"),
            ["delivered_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_report_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_report_queue_delivered_at_id"))
    op.drop_table("evaluation_report_queue")
