"""Whether a store's schema is the one this release works with (node and coordinator alike)."""

from __future__ import annotations

from typing import NamedTuple

from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine


class SchemaState(NamedTuple):
    current: str | None  # the store's migration (None: not initialised)
    head: str  # this release's newest migration
    known: bool  # whether this release knows the store's migration (False: a newer one made it)


def schema_state(config: AlembicConfig, engine: Engine) -> SchemaState:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(config)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    known = current is None or current in {script.revision for script in scripts.walk_revisions()}
    return SchemaState(current, scripts.get_current_head(), known)


def schema_problem(state: SchemaState, init_command: str) -> str | None:
    """What keeps this release from working on the store, in words for the operator, or None
    when the store is at this release's newest migration. A store behind is upgraded by
    `init_command`; a store at a migration this release does not know was migrated by a newer
    release, which is the one to run (or the backup taken before that upgrade to restore)."""
    if state.current == state.head:
        return None
    if not state.known:
        return (
            f"the store's schema is at {state.current}, which a newer release made (this release "
            f"knows up to {state.head}): run that release, or restore the backup taken before "
            "its upgrade"
        )
    return (
        f"the store's schema is at {state.current or 'nothing (not initialised)'}, this release "
        f"needs {state.head}: run `{init_command}`, which upgrades the store and keeps its data"
    )


def upgrade_to_head(config: AlembicConfig, engine: Engine, init_command: str) -> str | None:
    """Bring the store to this release's newest migration (nothing to do on a current one), or
    say why not: a store that a newer release has migrated is left as it is."""
    from alembic import command

    state = schema_state(config, engine)
    if not state.known:
        return schema_problem(state, init_command)
    command.upgrade(config, "head")
    return None
