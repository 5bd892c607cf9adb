"""decisions record the agencies whose research was still open

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A MASH manager may decide before every agency has finished its research (a red referral cannot
always wait), but the page warns first and the decision keeps which agencies were still
researching, for the timeline, the audit and the evaluation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "decisions", sa.Column("research_open", sa.JSON(), nullable=False, server_default="[]")
    )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("research_open")
