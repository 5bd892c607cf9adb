"""the federation's state: the published OPRF index, peers' nonces and daily evaluations, checks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

The node now answers existence checks from other boroughs and asks them its own (DESIGN
section 6): the PRF of every match key it holds under its OPRF key, from which it builds the
index filter it publishes, with the changes since the last snapshot for peers' deltas; the
nonces peers have signed requests with (a replay is refused after a restart too); how many
evaluations each peer has asked for today (each is one guess); and what each borough answered
when this hub checked a person of a referral.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from node.store.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oprf_index",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_value", sa.LargeBinary(length=16), nullable=False),
        sa.Column("prf", sa.LargeBinary(length=8), nullable=False),
        sa.PrimaryKeyConstraint("epoch", "key_value", name=op.f("pk_oprf_index")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "oprf_index_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("prf", sa.LargeBinary(length=8), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oprf_index_changes")),
        sqlite_autoincrement=True,  # sequence numbers peers follow never go back
    )
    op.create_index(op.f("ix_oprf_index_changes_epoch_id"), "oprf_index_changes", ["epoch", "id"])
    op.create_table(
        "oprf_snapshots",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("epoch", name=op.f("pk_oprf_snapshots")),
    )
    op.create_table(
        "seen_nonces",
        sa.Column("borough", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=64), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("borough", "nonce", name=op.f("pk_seen_nonces")),
    )
    op.create_index(op.f("ix_seen_nonces_expires_at_ms"), "seen_nonces", ["expires_at_ms"])
    op.create_table(
        "peer_evaluations",
        sa.Column("borough", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("borough", "day", name=op.f("pk_peer_evaluations")),
    )
    op.create_table(
        "borough_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("referral_person_id", sa.Integer(), nullable=True),
        sa.Column("borough", sa.String(length=40), nullable=False),
        sa.Column("borough_name", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("key_class", sa.String(length=60), nullable=False),
        sa.Column("strength", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("checked_by", sa.String(length=80), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_borough_checks_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["referral_person_id"],
            ["referral_people.id"],
            name=op.f("fk_borough_checks_referral_person_id_referral_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_borough_checks")),
    )
    op.create_index(
        op.f("ix_borough_checks_referral_id_checked_at"),
        "borough_checks",
        ["referral_id", "checked_at"],
    )


def downgrade() -> None:
    for table in (
        "borough_checks",
        "peer_evaluations",
        "seen_nonces",
        "oprf_snapshots",
        "oprf_index_changes",
        "oprf_index",
    ):
        op.drop_table(table)
