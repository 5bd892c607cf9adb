"""Rendered parts of the dashboards kept in memory until what they show changes.

Every change to the plan, a baseline or the figures bumps the store's data generation
(coordinator/rollout/changes.py); a part is kept under its key (the page, its arguments, today's
date) with the generation it was drawn at, and drawn again once the generation moves on. The
parts hold no personal data (the coordinator holds none) and nothing of the user who asked: no
names, no CSRF tokens, so any user of the same page may be shown them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import Flask, current_app
from markupsafe import Markup

EXTENSION = "mash_coordinator_cache"
T = TypeVar("T")
MAX_PARTS = 256


class PartCache:
    def __init__(self) -> None:
        self._parts: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: int, draw: Callable[[], T]) -> T:
        with self._lock:
            held = self._parts.get(key)
            if held is not None and held[0] == generation:
                self._parts.move_to_end(key)
                return held[1]  # type: ignore[return-value]
        drawn = draw()
        with self._lock:
            self._parts[key] = (generation, drawn)
            self._parts.move_to_end(key)
            while len(self._parts) > MAX_PARTS:
                self._parts.popitem(last=False)
        return drawn


def install(app: Flask) -> None:
    app.extensions[EXTENSION] = PartCache()


def part(key: Hashable, generation: int, draw: Callable[[], str]) -> Markup:
    """HTML drawn by our own templates (which escape), kept until the generation moves on."""
    cache: PartCache = current_app.extensions[EXTENSION]
    return cache.get(key, generation, lambda: Markup(draw()))  # noqa: S704


def value(key: Hashable, generation: int, make: Callable[[], T]) -> T:
    """Anything else made from the data (a report's PDF), kept the same way."""
    cache: PartCache = current_app.extensions[EXTENSION]
    return cache.get(key, generation, make)
