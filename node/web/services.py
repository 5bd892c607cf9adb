"""The opened node behind a web app, held on the app (never in globals), and a request's units
of work through the node's runtime, on behalf of the signed-in user."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from node.runtime import Node

if TYPE_CHECKING:
    from node.federation.runtime import Federation

EXTENSION = "mash"
FEDERATION = "mash.federation"
_federation_lock = threading.Lock()


def install(app: Flask, node: Node) -> None:
    app.extensions[EXTENSION] = node


def current_node(app: Flask | None = None) -> Node:
    """The node of `app`, or of the app handling the current request."""
    target = app if app is not None else current_app
    node: Node = target.extensions[EXTENSION]
    return node


def current_federation() -> Federation | None:
    """This worker's view of the federation (opened at first use, after the server forked its
    workers: gRPC channels must not cross a fork), or None if the node takes no part in it."""
    app = current_app
    with _federation_lock:
        if FEDERATION not in app.extensions:
            node = current_node()
            if node.config.federation is None:
                app.extensions[FEDERATION] = None
            else:
                from node.federation.runtime import Federation

                app.extensions[FEDERATION] = Federation.open(node)
        federation: Federation | None = app.extensions[FEDERATION]
        return federation


@contextmanager
def unit_of_work(*, commit_despite: tuple[type[Exception], ...] = ()) -> Iterator[Session]:
    """One store transaction for this request (`Node.unit_of_work`): a refusal is audited for
    the signed-in user, if any."""
    user = g.get("user")
    actor = user.actor if user is not None else None
    with current_node().unit_of_work(
        actor,
        commit_despite=commit_despite,
        refusal_ref=f"endpoint:{request.endpoint or ''}",
        refusal_detail=request_detail(),
    ) as session:
        yield session


def request_detail() -> dict[str, str]:
    """What an audit entry of a refusal says about the request: the page and the method."""
    return {"endpoint": request.endpoint or "", "method": request.method}


@contextmanager
def reading() -> Iterator[Session]:
    """One store transaction that only reads (`Node.reading`)."""
    with current_node().reading() as session:
        yield session
