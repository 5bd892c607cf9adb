"""The holder's side of an existence check (DESIGN section 6, step 3): a peer's signed request
checked, evaluated with this node's OPRF key, counted against the peer's daily limit, audited,
and answered with the evaluated elements and one proof that they were made with the key behind
the published filter.

The holder learns who asked (the borough, its user's pseudonym), when, under which referral
reference and purpose, and how many keys: never who was asked about. The blinded elements are
uniformly random to it, and it keeps none of them; the audit entry records their count only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from mash_common.errors import Refused
from node import audit
from node.access import Actor
from node.errors import DomainError, ErrorCode
from node.federation import index, voprf
from node.federation.peers import Peer, PeerBook
from node.federation.receiving import Receiver, audit_refusal
from node.runtime import Node
from node.store.db import dialect_of, upsert_insert
from node.store.models import PeerCheck, PeerEvaluations, utcnow
from protos.mash.federation.v1 import check_pb2

MAX_ELEMENTS = 64  # keys one check may ask about (a person has at most a dozen)
CHECK_TYPE = check_pb2.CheckPayload.DESCRIPTOR.full_name


class CheckRefused(DomainError):
    """The holder will not evaluate this request (over the limit, a retired epoch, too many
    keys); `code` says which status the caller gets."""


@dataclass(frozen=True)
class Answer:
    epoch: int
    evaluated: tuple[bytes, ...]
    proof: bytes


class Answering:
    """Answers peers' checks for one node: who may ask (the peers and their pinned keys), the
    nonces they have used, and how many evaluations each may ask for a day."""

    def __init__(
        self,
        node: Node,
        peers: tuple[Peer, ...] | PeerBook,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._node = node
        self._receiver = Receiver(peers, clock=clock)
        settings = node.config.federation
        self._daily_limit = settings.evaluations_per_peer_per_day if settings else 20_000

    def answer(self, peer_borough: str, request: check_pb2.CheckRequest) -> Answer:
        """Evaluate a peer's check, or raise (Refused or CheckRefused); either way audited.
        The nonce, the day's count and the audit entry are one transaction."""
        actor = Actor.peer(peer_borough, "unknown")
        try:
            with self._node.unit_of_work() as session:
                payload = self._receiver.open(
                    session,
                    request.envelope,
                    CHECK_TYPE,
                    check_pb2.CheckPayload.FromString,
                    peer_borough,
                )
                header = payload.header
                actor = Actor.peer(peer_borough, header.user_pseudonym[:40] or "unnamed")
                return self._evaluate(session, actor, header, payload)
        except (Refused, DomainError) as refusal:
            audit_refusal(self._node, actor, "federation.check-refused", refusal)
            raise

    def _evaluate(
        self, session: Session, actor: Actor, header: object, payload: check_pb2.CheckPayload
    ) -> Answer:
        elements = list(payload.blinded_elements)
        if not elements:
            raise CheckRefused("the check names no keys", field="blinded_elements")
        if len(elements) > MAX_ELEMENTS:
            raise CheckRefused(
                f"a check asks about at most {MAX_ELEMENTS} keys, not {len(elements)}",
                field="blinded_elements",
            )
        keys = self._node.keys
        key = keys.oprf_key(payload.epoch)
        if key is None or not index.honoured(self._node, payload.epoch):
            raise CheckRefused(
                f"epoch {payload.epoch} is not answered here any more (the current one is "
                f"{keys.oprf_epoch}): fetch this borough's filter again",
                code=ErrorCode.CONFLICT,
            )
        try:
            evaluation = voprf.blind_evaluate(
                key, elements, voprf.Mode.VOPRF, pk=keys.oprf_public_key_of(payload.epoch)
            )
        except voprf.VoprfError as exc:  # not group elements: nothing was evaluated
            raise CheckRefused(str(exc), field="blinded_elements") from None
        used = self._count(session, actor.borough or "", len(elements))
        _remember_check(session, actor.borough or "", header.referral_reference)  # type: ignore[attr-defined]
        audit.record(
            session,
            actor,
            "federation.check-answered",
            object_ref=f"borough:{actor.borough}",
            purpose=header.purpose[:500],  # type: ignore[attr-defined]
            detail={
                "referral": header.referral_reference[:100],  # type: ignore[attr-defined]
                "keys": len(elements),
                "evaluations_today": used,
            },
        )
        assert evaluation.proof is not None  # mode 0x01 always proves
        return Answer(payload.epoch, evaluation.evaluated_elements, evaluation.proof.to_bytes())

    def _count(self, session: Session, borough: str, asked: int) -> int:
        """Count `asked` evaluations against the peer's limit for today, or refuse them all
        (the refusal rolls the count back with the rest of the transaction)."""
        used = session.execute(
            _counting(dialect_of(session)),
            {"borough": borough, "day": utcnow().date(), "evaluations": asked},
        ).scalar_one()
        if used > self._daily_limit:
            raise CheckRefused(
                f"{borough} has used {used - asked:,} of its {self._daily_limit:,} evaluations "
                "today; each is one guess at a person, so the rest wait until tomorrow (UTC)",
                code=ErrorCode.LIMITED,
            )
        return used


# A check is answered by every peer at once: the holder's statements are built once per dialect
# (building one costs more than running it), each a single upsert.


@cache
def _counting(dialect: str) -> Any:
    """The day's count of a peer's evaluations raised by the row's `evaluations`; returns it."""
    table = PeerEvaluations.__table__
    insert = upsert_insert(dialect, table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.borough, table.c.day],
        set_={"evaluations": table.c.evaluations + insert.excluded.evaluations},
    ).returning(table.c.evaluations)


@cache
def _remembering(dialect: str) -> Any:
    table = PeerCheck.__table__
    insert = upsert_insert(dialect, table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.borough, table.c.referral_reference],
        set_={"last_at": insert.excluded.last_at},
    )


def _remember_check(session: Session, borough: str, reference: str) -> None:
    """A peer checked here under this referral: it may now ask for a disclosure for it."""
    session.execute(
        _remembering(dialect_of(session)),
        {"borough": borough, "referral_reference": reference[:100], "last_at": utcnow()},
    )


def evaluations_today(node: Node, borough: str) -> int:
    """How many evaluations `borough` has asked of this node today (UTC)."""
    with node.reading() as session:
        row = session.get(PeerEvaluations, (borough, utcnow().date()))
        return row.evaluations if row is not None else 0
