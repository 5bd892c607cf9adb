"""The opened coordinator behind a web app, held on the app (never in globals), and a request's
units of work through its runtime, on behalf of the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from coordinator.runtime import Coordinator

EXTENSION = "mash_coordinator"


def install(app: Flask, coordinator: Coordinator) -> None:
    app.extensions[EXTENSION] = coordinator


def current_coordinator(app: Flask | None = None) -> Coordinator:
    target = app if app is not None else current_app
    coordinator: Coordinator = target.extensions[EXTENSION]
    return coordinator


def request_detail() -> dict[str, str]:
    """What the access log says about the request a refusal came from."""
    return {"endpoint": request.endpoint or "", "method": request.method}


@contextmanager
def unit_of_work(*, commit_despite: tuple[type[Exception], ...] = ()) -> Iterator[Session]:
    """One store transaction for this request; a refusal is logged for the signed-in user."""
    user = g.get("user")
    actor = user.actor if user is not None else None
    with current_coordinator().unit_of_work(
        actor, commit_despite=commit_despite, refusal_detail=request_detail()
    ) as session:
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    with current_coordinator().reading() as session:
        yield session
