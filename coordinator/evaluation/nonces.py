"""The nonces of the nodes' signed reports, kept in the coordinator's store (mash_common's
NonceStore), so that a replay is refused even after a restart. Each is kept until its request
would be stale anyway; expired ones are swept as new ones arrive."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from coordinator.store.models import SeenNonce

SWEEP_EVERY = 100


class StoredNonces:
    """A NonceStore on the coordinator's store: one short transaction a nonce."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._since_sweep = 0

    def remember(self, borough: str, nonce: bytes, expires_at_ms: int) -> bool:
        try:
            with self._sessions() as session, session.begin():
                session.add(
                    SeenNonce(borough=borough, nonce=bytes(nonce), expires_at_ms=expires_at_ms)
                )
                self._since_sweep += 1
                if self._since_sweep >= SWEEP_EVERY:
                    self._since_sweep = 0
                    now_ms = int(self._clock() * 1000)
                    session.execute(delete(SeenNonce).where(SeenNonce.expires_at_ms < now_ms))
        except IntegrityError:
            return False
        return True
