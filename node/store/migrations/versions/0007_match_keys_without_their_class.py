"""match keys without their class: the key value already says which class it is

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

A key's value is a digest of material that starts with its class name, so two records share a
value only within one class: the class stored beside every value (up to 24 characters, more than
the value itself) told nothing the value did not. An import stages its keys with their class and
links by that; match_keys keeps key value and record id only, about a third smaller, which an
import writes and sorts millions of times.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt in key order (a scan of the old B-tree), still clustered on its key.
        with op.batch_alter_table(
            "match_keys", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch_op:
            batch_op.drop_column("key_class")
    else:
        op.drop_column("match_keys", "key_class")


def downgrade() -> None:
    # The classes are not kept: the column comes back empty, which nothing before 0007 read
    # (an import takes the class of a key from its own staged keys).
    column = sa.Column("key_class", sa.String(length=24), nullable=False, server_default="")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "match_keys", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch_op:
            batch_op.add_column(column)
    else:
        op.add_column("match_keys", column)
