"""match keys in one B-tree: no foreign key, no record index, clustered on SQLite

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

match_keys rows are derived from a record by the importer, which writes them (millions in one
import) and deletes them with their record. The foreign key to person_records cost a lookup a
row and the index on record_id a second B-tree of every key: both go. A record's key values are
kept on the record instead (person_records.match_key_values, filled here from match_keys), which
is how the importer finds the rows to delete. On SQLite the table also becomes WITHOUT ROWID:
its rows live in the primary-key B-tree (key value, record id).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FK = "fk_match_keys_record_id_person_records"
_INDEX = "ix_match_keys_record_id"


def upgrade() -> None:
    # Written to be run again on a store that has it already (its version set back by hand).
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "match_key_values" not in {c["name"] for c in inspector.get_columns("person_records")}:
        with op.batch_alter_table("person_records", schema=None) as batch_op:
            batch_op.add_column(sa.Column("match_key_values", sa.LargeBinary(), nullable=True))
    _fill_key_values(bind)
    has_index = _INDEX in {i["name"] for i in inspector.get_indexes("match_keys")}
    if bind.dialect.name == "sqlite":
        has_fk = any(fk["name"] == _FK for fk in inspector.get_foreign_keys("match_keys"))
        with op.batch_alter_table(
            "match_keys", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch_op:
            if has_fk:
                batch_op.drop_constraint(_FK, type_="foreignkey")
            if has_index:
                batch_op.drop_index(_INDEX)
    else:
        op.execute(f"ALTER TABLE match_keys DROP CONSTRAINT IF EXISTS {_FK}")
        op.execute(f"DROP INDEX IF EXISTS {_INDEX}")


def _fill_key_values(bind: sa.Connection) -> None:
    """Each record's match key values end to end, from match_keys (records without keys: NULL)."""
    packed: dict[int, list[bytes]] = defaultdict(list)
    for record_id, value in bind.exec_driver_sql("SELECT record_id, key_value FROM match_keys"):
        packed[record_id].append(bytes(value))
    update = sa.text("UPDATE person_records SET match_key_values = :values WHERE id = :id")
    rows = [{"id": record_id, "values": b"".join(values)} for record_id, values in packed.items()]
    if rows:
        bind.execute(update, rows)


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
            batch_op.create_index(_INDEX, ["record_id"], unique=False)
    else:
        op.create_foreign_key(
            _FK, "match_keys", "person_records", ["record_id"], ["id"], ondelete="CASCADE"
        )
        op.create_index(_INDEX, "match_keys", ["record_id"], unique=False)
    # In place (SQLite 3.35 or later), not a batch copy: with foreign keys on, dropping the old
    # person_records table would cascade to every name, item and key of every record.
    op.execute("ALTER TABLE person_records DROP COLUMN match_key_values")
