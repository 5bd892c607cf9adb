"""index the columns that refer to subjects

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Deleting a subject makes the database check every column that may refer to it. An import deletes
the subjects of its records that turned out to be one person with others (each new record is
written with a subject of its own), thousands at a time when an agency's records meet another's;
without an index each check read the whole table (20 ms a subject at a million subjects, in
subjects.merged_into_id). Merged subjects are few, so that index holds only them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MERGED = sa.text("merged_into_id IS NOT NULL")
_INDEXES = (
    ("ix_match_candidates_subject_b_id", "match_candidates", "subject_b_id"),
    ("ix_subject_merges_survivor_id", "subject_merges", "survivor_id"),
    ("ix_subject_merges_merged_id", "subject_merges", "merged_id"),
    ("ix_referral_people_subject_id", "referral_people", "subject_id"),
)


def upgrade() -> None:
    op.create_index(
        "ix_subjects_merged_into_id",
        "subjects",
        ["merged_into_id"],
        sqlite_where=_MERGED,
        postgresql_where=_MERGED,
    )
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in _INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_subjects_merged_into_id", table_name="subjects")
