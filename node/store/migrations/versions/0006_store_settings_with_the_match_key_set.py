"""store settings, with the match-key set the store's keys were derived with

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

A store's match keys are only comparable with keys of the same key set (node.matching.keys
KEY_SET_VERSION). The version is recorded here so that a release with a new key set knows to
re-derive them (`mash-node init` does). Stores made before this migration never said which set
their keys came from; it is read off the key classes they hold: only key set 1 had
short_name_dob_postcode and name_birthday_postcode, only key set 2 has nhs_near_surname and
short_name_bday_postcode. Nothing is recorded for a store whose keys tell neither (init
re-derives them) or that has none (its first import records the set).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SETTING = "match_key_set"
_ONLY_IN = {
    "1": ("short_name_dob_postcode", "name_birthday_postcode"),
    "2": ("nhs_near_surname", "short_name_bday_postcode"),
}


def upgrade() -> None:
    settings = op.create_table(
        "store_settings",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_settings")),
    )
    bind = op.get_bind()
    for version, classes in _ONLY_IN.items():
        found = bind.execute(
            sa.text("SELECT 1 FROM match_keys WHERE key_class IN :classes LIMIT 1").bindparams(
                sa.bindparam("classes", expanding=True)
            ),
            {"classes": list(classes)},
        ).first()
        if found:
            op.bulk_insert(settings, [{"name": _SETTING, "value": version}])
            return
    # Keys of classes both sets share only (no record had a postcode): nothing is recorded, and
    # the node refuses the store until init has re-derived its keys (node.match_key_set).


def downgrade() -> None:
    op.drop_table("store_settings")
