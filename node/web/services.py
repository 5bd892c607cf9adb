"""What every request needs from the node (config, store, keys), held on the app, never in globals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from node.config import NodeConfig
from node.keys import NodeKeys
from node.store.db import transaction

EXTENSION = "mash"


@dataclass(frozen=True)
class NodeServices:
    """The opened node behind one web app: built once by `create_app`."""

    config: NodeConfig
    engine: Engine
    sessions: sessionmaker[Session]
    keys: NodeKeys
    read_sessions: sessionmaker[Session]  # transactions that only read (see reading())


def install(app: Flask, services: NodeServices) -> None:
    app.extensions[EXTENSION] = services


def node_services(app: Flask | None = None) -> NodeServices:
    """The node services of `app`, or of the app handling the current request."""
    target = app if app is not None else current_app
    services: NodeServices = target.extensions[EXTENSION]
    return services


@contextmanager
def unit_of_work(*, commit_despite: tuple[type[Exception], ...] = ()) -> Iterator[Session]:
    """One store transaction: commits at the end, or rolls back if the block raises.

    An exception of a `commit_despite` type still commits what was written before it (a refused
    sign-in's attempt record and audit entry) and is then raised to the caller.
    """
    with node_services().sessions() as session:
        session.begin()
        try:
            yield session
        except commit_despite:
            session.commit()
            raise
        except BaseException:
            session.rollback()
            raise
        session.commit()


@contextmanager
def reading() -> Iterator[Session]:
    """One store transaction that only reads: on SQLite it does not queue for the write lock, and
    a write in it fails. Nothing personal may be read here: such reads are audited, a write."""
    with transaction(node_services().read_sessions) as session:
        yield session
