"""The opened node, and the one unit of work every entry point acts through.

The web app, the CLI, the demo, the federation's servicers, the tests and the benchmarks all open
a node here (`Node.open`: configuration, store, keys, with the schema and key-set checks) and act
in `Node.unit_of_work`: one transaction that commits or rolls back whole, with a signed audit
checkpoint when `audit_checkpoint_every` entries are due (or, for the CLI, after every command),
filed in the node's checkpoint file before the commit and marked there after it, and with an
`access.denied` audit entry, in a transaction of its own, when the work is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from node import audit, match_key_set
from node.access import AccessDenied, Actor
from node.config import NodeConfig, load_config
from node.keys import NodeKeys, ensure_keys, load_keys
from node.store.db import (
    make_engine,
    make_private,
    make_sessionmaker,
    read_only,
    require_current,
    upgrade,
)


@dataclass(frozen=True)
class Node:
    """One borough's node, opened: its configuration, store (for work that writes, and for work
    that only reads) and keys. Built by `open` or `initialise`; `close` releases the store."""

    config: NodeConfig
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    keys: NodeKeys
    anchor: audit.CheckpointFile  # every checkpoint signed, outside the store (beside the keys)
    checkpoint_every_unit: bool = False  # the CLI signs a checkpoint after every command
    watch: audit.CheckpointWatch = field(default_factory=audit.CheckpointWatch)

    @classmethod
    def open(
        cls,
        config: NodeConfig | str | Path,
        *,
        shared_writers: bool = False,
        checkpoint_every_unit: bool = False,
    ) -> Node:
        """Open a node whose store is current: refuse one whose schema or match-key set is
        behind this release, or whose checkpoint file is missing (StoreOutOfDate,
        KeysOutOfDate, CheckpointFileError: run `mash-node init`).

        `shared_writers`: SQLite writes queue, in order, with the other processes that say so
        (the web server's workers)."""
        node = cls._opened(config, shared_writers, checkpoint_every_unit)
        try:
            require_current(node.engine)
            with node.read_sessions() as session:
                match_key_set.require_current_keys(session)
                audit.require_checkpoint_file(session, node.anchor)
        except BaseException:
            node.close()
            raise
        return node

    @classmethod
    def initialise(cls, config: NodeConfig | str | Path) -> Node:
        """Create what is missing (the data directory, the keys, the audit checkpoint file) and
        bring the store's schema up to date; keeps everything that is there. The data directory
        is made the owner's only (0700) and a SQLite store's files readable by the owner only
        (0600), a store from before this rule included. A store from before the checkpoint file
        starts it with its checkpoints once its log verifies (AuditTampered if not). The caller
        re-derives match keys of an older key set (`mash-node init` does)."""
        config = _config(config)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(config.data_dir, 0o700)
        ensure_keys(config.keys_dir)
        node = cls._opened(config, shared_writers=False, checkpoint_every_unit=True)
        try:
            upgrade(node.engine)
            make_private(config.database_url)
            with node.sessions() as session, session.begin():
                audit.start_checkpoint_file(session, node.anchor, [bytes(node.keys.verify_key)])
        except BaseException:
            node.close()
            raise
        return node

    @classmethod
    def _opened(
        cls, config: NodeConfig | str | Path, shared_writers: bool, checkpoint_every_unit: bool
    ) -> Node:
        config = _config(config)
        keys = load_keys(config.keys_dir)  # first: a missing key says "run init" before the store
        engine = make_engine(config.database_url, share_queue=shared_writers)
        return cls(
            config=config,
            engine=engine,
            sessions=make_sessionmaker(engine),
            read_sessions=make_sessionmaker(read_only(engine)),
            keys=keys,
            anchor=audit.CheckpointFile.beside(config.keys_dir),
            checkpoint_every_unit=checkpoint_every_unit,
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def unit_of_work(
        self,
        actor: Actor | None = None,
        *,
        commit_despite: tuple[type[Exception], ...] = (),
        refusal_ref: str = "",
        refusal_detail: dict[str, Any] | None = None,
    ) -> Iterator[Session]:
        """One store transaction on behalf of `actor`: commits at the end (with a checkpoint of
        the audit log when one is due), or rolls back if the block raises.

        A refusal (AccessDenied) rolls the work back and is itself audited, for `actor`, in a
        transaction of its own (with `refusal_ref` and `refusal_detail`: what the adapter was
        asked, such as the page). An exception of a `commit_despite` type still commits what was
        written before it (a refused sign-in's attempt record and audit entry), then is raised.
        """
        with self.sessions() as session:
            session.begin()
            try:
                yield session
            except AccessDenied as refused:
                session.rollback()
                if actor is not None:
                    self.record_refusal(
                        actor, refused, object_ref=refusal_ref, detail=refusal_detail
                    )
                raise
            except commit_despite:
                self._commit(session)
                raise
            except BaseException:
                session.rollback()
                raise
            self._commit(session)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One transaction that only reads: on SQLite it does not queue for the write lock, and
        a write in it fails. Nothing personal may be read here: such reads are audited, a write."""
        with self.read_sessions() as session, session.begin():
            yield session

    def record_refusal(
        self,
        actor: Actor,
        refused: AccessDenied | str,
        *,
        object_ref: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write the `access.denied` audit entry of a refusal, in a transaction of its own (the
        refused work has been rolled back), once."""
        if isinstance(refused, AccessDenied) and refused.audited:
            return
        why = refused if isinstance(refused, str) else str(refused)
        with self.sessions() as session:
            session.begin()
            try:
                audit.record_refusal(session, actor, why, object_ref=object_ref, detail=detail)
            except BaseException:
                session.rollback()
                raise
            self._commit(session)
        if isinstance(refused, AccessDenied):
            refused.audited = True

    def _commit(self, session: Session) -> None:
        """Sign a checkpoint if one is due (filed, and fsynced, in the checkpoint file), commit,
        then mark it committed in the file."""
        try:
            if self.checkpoint_every_unit:
                audit.checkpoint(session, self.keys, self.anchor)
            elif audit.appended(session):
                every = self.config.audit_checkpoint_every
                audit.checkpoint_if_due(session, self.keys, every, self.anchor, self.watch)
            session.commit()
        except BaseException:
            session.rollback()
            audit.forget_filed(session)
            raise
        audit.confirm_committed(session, self.anchor)


def _config(config: NodeConfig | str | Path) -> NodeConfig:
    return config if isinstance(config, NodeConfig) else load_config(config)
