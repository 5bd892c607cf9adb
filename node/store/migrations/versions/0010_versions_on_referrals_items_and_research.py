"""versions on referrals, contributions and research tasks; the agencies chosen to research

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Two people acting on one referral at once is normal in a hub. Each state change now carries the
version of what the person saw, and is refused if it has changed since (saying who changed it
and when) instead of silently replacing the other's work: a referral's version moves with every
step on its timeline, an item's with its release decision, a research task's with its state.

At triage the MASH manager now chooses which agencies research a referral (least exposure: only
their professionals see it); an adult's choice is kept until its lawful basis opens the research.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("referrals", "contributions", "research_tasks")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column(
        "referrals",
        sa.Column("research_agencies", sa.JSON(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("research_agencies")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
