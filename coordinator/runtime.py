"""The opened coordinator, and the one unit of work every entry point acts through.

The web app, the gRPC servicer, the CLI, the demo data, the tests and the benchmarks open the
coordinator here (`Coordinator.open`: configuration, store, key, with the schema check) and act in
`Coordinator.unit_of_work`: one transaction that commits or rolls back whole, and, when the work
is refused (AccessDenied), an `access.denied` entry in the access log in a transaction of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from coordinator import events
from coordinator.access import AccessDenied, Actor
from coordinator.config import CoordinatorConfig, load_config
from coordinator.keys import CoordinatorKeys, ensure_keys, load_keys
from coordinator.store.db import make_engine, make_sessionmaker, read_only, require_current, upgrade


@dataclass(frozen=True)
class Coordinator:
    config: CoordinatorConfig
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    keys: CoordinatorKeys

    @classmethod
    def open(cls, config: CoordinatorConfig | str | Path) -> Coordinator:
        """Open a coordinator whose store is current (StoreOutOfDate otherwise: run init)."""
        opened = cls._opened(config)
        try:
            require_current(opened.engine)
        except BaseException:
            opened.close()
            raise
        return opened

    @classmethod
    def initialise(cls, config: CoordinatorConfig | str | Path) -> Coordinator:
        """Create what is missing (the data directory, owner only, and the key) and bring the
        store's schema up to date; keeps everything that is there."""
        config = _config(config)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(config.data_dir, 0o700)
        ensure_keys(config.keys_dir)
        opened = cls._opened(config)
        try:
            upgrade(opened.engine)
        except BaseException:
            opened.close()
            raise
        return opened

    @classmethod
    def _opened(cls, config: CoordinatorConfig | str | Path) -> Coordinator:
        config = _config(config)
        keys = load_keys(config.keys_dir)
        engine = make_engine(config.database_url)
        return cls(
            config=config,
            engine=engine,
            sessions=make_sessionmaker(engine),
            read_sessions=make_sessionmaker(read_only(engine)),
            keys=keys,
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def unit_of_work(
        self,
        actor: Actor | None = None,
        *,
        commit_despite: tuple[type[Exception], ...] = (),
        refusal_detail: dict[str, Any] | None = None,
    ) -> Iterator[Session]:
        """One store transaction on behalf of `actor`: commits at the end, or rolls back if the
        block raises. A refusal (AccessDenied) is recorded in the access log, in a transaction of
        its own. An exception of a `commit_despite` type still commits what was written before
        it (a refused sign-in's attempt record), then is raised."""
        with self.sessions() as session:
            session.begin()
            try:
                yield session
            except AccessDenied as refused:
                session.rollback()
                if actor is not None:
                    self.record_refusal(actor, refused, detail=refusal_detail)
                raise
            except commit_despite:
                session.commit()
                raise
            except BaseException:
                session.rollback()
                raise
            session.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One transaction that only reads (on SQLite it takes no write lock)."""
        with self.read_sessions() as session, session.begin():
            yield session

    def record_refusal(
        self, actor: Actor, refused: AccessDenied | str, *, detail: dict[str, Any] | None = None
    ) -> None:
        """Write the `access.denied` entry of a refusal, in a transaction of its own, once."""
        if isinstance(refused, AccessDenied) and refused.audited:
            return
        with self.sessions() as session, session.begin():
            events.record(session, actor, "access.denied", why=str(refused), **(detail or {}))
        if isinstance(refused, AccessDenied):
            refused.audited = True


def _config(config: CoordinatorConfig | str | Path) -> CoordinatorConfig:
    return config if isinstance(config, CoordinatorConfig) else load_config(config)
