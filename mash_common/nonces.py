"""Replay protection: each borough's request nonces, remembered until their requests are stale.

A receiver remembers a nonce until the sender's timestamp plus the freshness window has passed;
after that, the timestamp check refuses the request anyway, so the nonce may be forgotten.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol


class NonceStore(Protocol):
    """Where a receiver remembers the nonces it has accepted."""

    def remember(self, borough: str, nonce: bytes, expires_at_ms: int) -> bool:
        """Record `borough`'s `nonce` until `expires_at_ms` (Unix milliseconds), atomically;
        False if it is already recorded (a replay), True if it was new."""
        ...


class InMemoryNonceStore:
    """A NonceStore in one process's memory, for tests and the coordinator's first use: safe
    across threads, forgetting nonces once they expire. A restart forgets every nonce, so a
    request captured just before one could be replayed within the window: a node keeps its
    nonces in its store."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, bytes], int] = {}
        self._expiries: list[tuple[int, str, bytes]] = []

    def remember(self, borough: str, nonce: bytes, expires_at_ms: int) -> bool:
        key = (borough, bytes(nonce))
        with self._lock:
            self._forget_expired(int(self._clock() * 1000))
            if key in self._seen:
                return False
            self._seen[key] = expires_at_ms
            heapq.heappush(self._expiries, (expires_at_ms, *key))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _forget_expired(self, now_ms: int) -> None:
        while self._expiries and self._expiries[0][0] < now_ms:
            _, borough, nonce = heapq.heappop(self._expiries)
            del self._seen[(borough, nonce)]
