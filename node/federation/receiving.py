"""How this node receives peers' signed requests (checks, disclosures): each envelope checked
against the peer's pinned key, the key sets accepted here, the clock, and the nonces it has
seen, those kept in the store within the transaction that acts on the request (so a replay is
refused after a restart too, and a nonce is spent only if the request's work commits)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy import bindparam, delete
from sqlalchemy.orm import Session

from mash_common.envelope import Acceptance, Keyring, open_envelope
from node import audit
from node.access import Actor
from node.federation.peers import Peer, PeerBook, as_book, peer_of
from node.matching.keys import KEY_SET_VERSION
from node.runtime import Node
from node.store.db import dialect_of, upsert_insert
from node.store.models import SeenNonce, utcnow
from protos.mash.federation.v1.envelope_pb2 import SignedEnvelope

M = TypeVar("M", bound=Message)


class StoreNonces:
    """mash_common's NonceStore in the node's store, within one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def remember(self, borough: str, nonce: bytes, expires_at_ms: int) -> bool:
        now_ms = int(utcnow().timestamp() * 1000)
        session = self._session
        session.execute(_FORGET_EXPIRED, {"now_ms": now_ms})
        values = {"borough": borough, "nonce": nonce, "expires_at_ms": expires_at_ms}
        return session.execute(_remembering(dialect_of(session)), values).first() is not None


# Built once (every request a peer sends passes here).
_FORGET_EXPIRED = delete(SeenNonce).where(SeenNonce.expires_at_ms < bindparam("now_ms"))


@cache
def _remembering(dialect: str) -> Any:
    """A nonce kept unless already seen; returns a row only if it was new."""
    table = SeenNonce.__table__
    return upsert_insert(dialect, table).on_conflict_do_nothing().returning(table.c.borough)


class _NoNonces:
    """A placeholder: every request brings its own StoreNonces."""

    def remember(self, borough: str, nonce: bytes, expires_at_ms: int) -> bool:
        raise RuntimeError("the nonces of a request are its transaction's")


class Receiver:
    """Opens the signed envelopes of this node's peers."""

    def __init__(
        self, peers: Sequence[Peer] | PeerBook, *, clock: Callable[[], float] | None = None
    ) -> None:
        book = as_book(peers)

        def verify_key_for(borough: str, key: str) -> bytes | None:
            peer = peer_of(book, borough)
            return Keyring.of([(peer.borough, peer.verify_key)])(borough, key) if peer else None

        extra = {"clock": clock} if clock is not None else {}
        self._accept = Acceptance(
            verify_key_for=verify_key_for,
            nonces=_NoNonces(),
            key_set_versions=frozenset({KEY_SET_VERSION}),
            **extra,  # type: ignore[arg-type]
        )

    def open(
        self,
        session: Session,
        envelope: SignedEnvelope,
        message_type: str,
        parse: Callable[[bytes], M],
        peer_borough: str,
    ) -> M:
        """The inner message, once every check has passed (raises EnvelopeRefused)."""
        return open_envelope(
            envelope,
            message_type,
            parse,
            peer_borough=peer_borough,
            accept=replace(self._accept, nonces=StoreNonces(session)),
        )


def audit_refusal(node: Node, actor: Actor, action: str, refusal: Exception) -> None:
    """Keep a refused peer request in the audit log (its own transaction: the request's rolled
    back): who, which refusal, and why in words; never what the request carried."""
    code = str(getattr(refusal, "code", "invalid"))
    message = getattr(refusal, "message", str(refusal))
    with node.unit_of_work() as session:
        audit.record(
            session,
            actor,
            action,
            object_ref=f"borough:{actor.borough}",
            detail={"code": code, "refused": str(message)[:300]},
        )
