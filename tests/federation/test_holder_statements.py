"""The holder's per-check statements (each one upsert, built once per dialect) on SQLite and
PostgreSQL: a nonce is kept once, the day's count of a peer's evaluations adds up, and a check
under a referral is remembered once with its latest time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.federation.answering import _counting, _remember_check
from node.federation.receiving import StoreNonces
from node.store.db import dialect_of
from node.store.models import PeerCheck, SeenNonce, utcnow

DAY = dt.date(2026, 12, 6)


def test_a_nonce_is_kept_once_and_expired_ones_are_forgotten(session: Session) -> None:
    nonces = StoreNonces(session)
    now_ms = int(utcnow().timestamp() * 1000)
    assert nonces.remember("lambeth", b"n" * 16, now_ms + 60_000)
    assert not nonces.remember("lambeth", b"n" * 16, now_ms + 60_000)  # a replay
    assert nonces.remember("hackney", b"n" * 16, now_ms + 60_000)  # another borough's own
    session.add(SeenNonce(borough="lambeth", nonce=b"old" * 5, expires_at_ms=now_ms - 1))
    session.flush()
    assert nonces.remember("lambeth", b"m" * 16, now_ms + 60_000)
    kept = set(session.scalars(select(SeenNonce.nonce)))
    assert b"old" * 5 not in kept and {b"n" * 16, b"m" * 16} <= kept


def test_the_days_evaluations_add_up_per_borough(session: Session) -> None:
    counting = _counting(dialect_of(session))
    used = [
        session.execute(counting, {"borough": b, "day": DAY, "evaluations": n}).scalar_one()
        for b, n in (("lambeth", 8), ("lambeth", 12), ("hackney", 5), ("lambeth", 1))
    ]
    assert used == [8, 20, 5, 21]
    tomorrow = {"borough": "lambeth", "day": DAY + dt.timedelta(days=1), "evaluations": 3}
    assert session.execute(counting, tomorrow).scalar_one() == 3


def test_a_check_under_a_referral_is_remembered_once_with_its_latest_time(
    session: Session,
) -> None:
    _remember_check(session, "lambeth", "LAM-2026-00042")
    first = session.scalars(select(PeerCheck.last_at)).one()
    _remember_check(session, "lambeth", "LAM-2026-00042")
    _remember_check(session, "lambeth", "LAM-2026-00043")
    rows = session.execute(select(PeerCheck.referral_reference, PeerCheck.last_at)).all()
    assert sorted(reference for reference, _ in rows) == ["LAM-2026-00042", "LAM-2026-00043"]
    assert all(at >= first for _, at in rows)
