"""match keys without a foreign key, clustered on their key on SQLite

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

match_keys rows are derived from a record by the importer, which writes them (millions in one
import) and deletes them with their record; the foreign key to person_records cost a lookup a
row and is dropped. On SQLite the table also becomes WITHOUT ROWID: the rows live in the
primary-key B-tree (key value, record id) instead of a rowid table plus a separate primary-key
index. PostgreSQL has no such option; there only the foreign key goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FK = "fk_match_keys_record_id_person_records"


def upgrade() -> None:
    # Written to be run again on a store that has it already (its version set back by hand).
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        has_fk = any(fk["name"] == _FK for fk in sa.inspect(bind).get_foreign_keys("match_keys"))
        with op.batch_alter_table(
            "match_keys", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch_op:
            if has_fk:
                batch_op.drop_constraint(_FK, type_="foreignkey")
    else:
        op.execute(f"ALTER TABLE match_keys DROP CONSTRAINT IF EXISTS {_FK}")


def downgrade() -> None:
    # Keys of records that are gone would break the foreign key: drop them first.
    op.execute("DELETE FROM match_keys WHERE record_id NOT IN (SELECT id FROM person_records)")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "match_keys", recreate="always", table_kwargs={"sqlite_with_rowid": True}
        ) as batch_op:
            batch_op.create_foreign_key(
                _FK, "person_records", ["record_id"], ["id"], ondelete="CASCADE"
            )
    else:
        op.create_foreign_key(
            _FK, "match_keys", "person_records", ["record_id"], ["id"], ondelete="CASCADE"
        )
