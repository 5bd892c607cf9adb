"""The asker's side of an existence check (DESIGN section 6, steps 2 and 4), and keeping peers'
filters up to date.

To check a person, the node derives their match keys, blinds each with a fresh blind (one
blinding a check: a blinded element is uniformly random, so the peers learn nothing more from
receiving the same ones), and asks every peer at once with one deadline. Each answer is verified against the OPRF
public key in the peer's signed filter trailer (a holder cannot answer with another key than the
one behind its filter), unblinded, and looked up in that filter. A peer reports "holds
information" with the strongest key class that hit, "holds nothing", "did not answer" (down,
late, or no filter of it held yet: never "holds nothing"), or "refused" with why.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import grpc

from mash_common.client import client_channel
from mash_common.envelope import new_header, seal
from mash_common.status import error_code_of
from mash_common.tls import TlsIdentity
from node.federation import index_filter, voprf
from node.federation.index import DELTA, SNAPSHOT, trailer_message
from node.federation.peers import Peer, PeerBook, PeerFilters, as_book
from node.keys import verify_signature
from node.matching.keys import KEY_SET_VERSION, MatchKey, Strength
from node.runtime import Node
from protos.mash.federation.v1 import check_pb2, check_pb2_grpc, node_pb2, node_pb2_grpc

HOLDS, NOTHING, NOT_ANSWERED, REFUSED = "holds", "holds-nothing", "not-answered", "refused"
CHECK_TYPE = check_pb2.CheckPayload.DESCRIPTOR.full_name
FETCH_TIMEOUT_S = 120.0  # a snapshot of millions of keys is tens of megabytes


@dataclass(frozen=True)
class BoroughAnswer:
    """What one borough answered about one person."""

    borough: str
    name: str
    outcome: str  # HOLDS, NOTHING, NOT_ANSWERED or REFUSED
    key_class: str = ""  # HOLDS: the strongest class of key that hit
    strength: str = ""
    detail: str = ""  # REFUSED or NOT_ANSWERED: why, in words


@dataclass(frozen=True)
class Why:
    """Why this node asks: shown to the holder and kept in its audit log (never who)."""

    referral_reference: str
    purpose: str
    user_pseudonym: str


@dataclass(frozen=True)
class PeerStatus:
    """A peer as `mash-node peers list` shows it."""

    borough: str
    name: str
    address: str
    reachable: bool
    key_set_version: int | None
    filter_epoch: int | None
    filter_keys: int | None
    filter_age: dt.timedelta | None
    problem: str = ""


class FilterRejected(ValueError):
    """A filter a peer sent did not verify: a bad signature, digest, borough or epoch."""


class Asker:
    """Asks this node's peers: keeps one channel to each, and their filters in `filters`."""

    def __init__(
        self, node: Node, peers: Sequence[Peer] | PeerBook, filters: PeerFilters, tls: TlsIdentity
    ) -> None:
        self._node = node
        self._book = as_book(peers)
        self._filters = filters
        self._tls = tls
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(8, len(self._book.current())), thread_name_prefix="mash-check"
        )

    @property
    def tls(self) -> TlsIdentity:
        return self._tls

    @property
    def peers(self) -> tuple[Peer, ...]:
        return self._book.current()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()

    # --- checking ---------------------------------------------------------------------------

    def check(
        self, keys: Sequence[MatchKey], why: Why, *, deadline_s: float | None = None
    ) -> list[BoroughAnswer]:
        """Ask every peer about the person whose match keys these are, in parallel, waiting at
        most `deadline_s` (default: federation.check_deadline_ms) for all of them."""
        distinct = list({key.value: key for key in keys}.values())
        if deadline_s is None:
            settings = self._node.config.federation
            deadline_s = (settings.check_deadline_ms if settings else 2_000) / 1000
        blinded = voprf.blind([key.value for key in distinct], voprf.Mode.VOPRF)
        futures = {
            self._pool.submit(self._ask, peer, distinct, blinded, why, deadline_s): peer
            for peer in self._book.current()
        }
        done, late = concurrent.futures.wait(futures, timeout=deadline_s + 0.5)
        answers = []
        for future, peer in futures.items():
            if future in late:
                future.cancel()
                answers.append(_not_answered(peer, "no answer within the deadline"))
            else:
                answers.append(future.result())
        return sorted(answers, key=lambda a: a.name)

    def _ask(
        self,
        peer: Peer,
        keys: list[MatchKey],
        blinded: voprf.Blinded,
        why: Why,
        deadline_s: float,
    ) -> BoroughAnswer:
        held = self._filters.filter(peer.borough)
        if held is None:
            return _not_answered(peer, "its index filter has not been fetched yet")
        state, published = held
        header = new_header(
            self._node.config.borough_code,
            key_set_version=KEY_SET_VERSION,
            referral_reference=why.referral_reference,
            purpose=why.purpose,
            user_pseudonym=why.user_pseudonym,
        )
        payload = check_pb2.CheckPayload(
            header=header, blinded_elements=blinded.blinded_elements, epoch=state.epoch
        ).SerializeToString()
        keys_of = self._node.keys
        envelope = seal(
            payload, CHECK_TYPE, keys_of, self._node.config.borough_code, keys_of.signing_key_id
        )
        try:
            response = check_pb2_grpc.ExistenceCheckStub(self.channel(peer)).Check(
                check_pb2.CheckRequest(envelope=envelope), timeout=deadline_s
            )
        except grpc.RpcError as error:
            return _failed(peer, error)
        if response.epoch != state.epoch:
            return _refused(peer, f"it answered with epoch {response.epoch}, not {state.epoch}")
        try:
            outputs = voprf.finalize(
                blinded,
                voprf.Evaluation(
                    tuple(response.evaluated_elements), voprf.Proof.from_bytes(response.proof)
                ),
                pk=state.oprf_public_key,
            )
        except voprf.VoprfError as exc:
            return _refused(peer, f"its answer does not verify against its published key: {exc}")
        hits = [
            key for key, output in zip(keys, outputs, strict=True) if published.contains(output)
        ]
        if not hits:
            return BoroughAnswer(peer.borough, peer.name, NOTHING)
        best = max(hits, key=lambda key: Strength(key.strength).rank)
        return BoroughAnswer(
            peer.borough, peer.name, HOLDS, key_class=best.key_class, strength=str(best.strength)
        )

    def channel(self, peer: Peer) -> grpc.Channel:
        """The channel to `peer` (one each, opened at first use)."""
        with self._lock:
            key = f"{peer.borough}@{peer.address}"  # a peer that moved gets a new channel
            channel = self._channels.get(key)
            if channel is None:
                channel = client_channel(
                    peer.address,
                    peer.borough,
                    self._tls,
                    options=[  # a peer back from a restart is reached within seconds
                        ("grpc.initial_reconnect_backoff_ms", 250),
                        ("grpc.min_reconnect_backoff_ms", 250),
                        ("grpc.max_reconnect_backoff_ms", 5_000),
                    ],
                )
                self._channels[key] = channel
            return channel

    # --- peers' filters ---------------------------------------------------------------------

    def refresh_filters(self) -> dict[str, str]:
        """Bring every peer's filter up to date (a delta, or the snapshot when needed); returns
        what happened for each peer, in words."""
        results = {}
        for peer in self._book.current():
            try:
                results[peer.borough] = self.refresh_filter(peer)
            except (grpc.RpcError, FilterRejected, index_filter.FilterError) as exc:
                results[peer.borough] = f"not refreshed: {why_failed(exc)}"
        return results

    def refresh_filter(self, peer: Peer) -> str:
        stub = check_pb2_grpc.ExistenceCheckStub(self.channel(peer))
        state = self._filters.state(peer.borough)
        if state is not None:
            try:
                data, trailer = _receive(
                    stub.FilterDelta(
                        check_pb2.FilterDeltaRequest(
                            epoch=state.epoch, since_sequence=state.sequence
                        ),
                        timeout=FETCH_TIMEOUT_S,
                    )
                )
            except grpc.RpcError as error:
                if error.code() is not grpc.StatusCode.FAILED_PRECONDITION:
                    raise
            else:
                self._verify(peer, trailer, data, DELTA, state.epoch, state.sequence)
                if trailer.sequence == state.sequence:
                    self._filters.touch(peer.borough)
                    return "up to date"
                delta = index_filter.FilterDelta.from_bytes(data, source=f"{peer.borough}'s delta")
                self._filters.save_delta(peer.borough, delta, trailer.sequence)
                return f"{delta.added.size + delta.removed.size} change(s) applied"
        data, trailer = _receive(
            stub.FilterSnapshot(check_pb2.FilterRequest(epoch=0), timeout=FETCH_TIMEOUT_S)
        )
        self._verify(peer, trailer, data, SNAPSHOT, None, 0)
        self._filters.save_snapshot(
            peer.borough, data, trailer.epoch, trailer.sequence, trailer.oprf_public_key
        )
        return f"snapshot of epoch {trailer.epoch} fetched ({len(data):,} bytes)"

    def _verify(
        self,
        peer: Peer,
        trailer: check_pb2.FilterTrailer,
        data: bytes,
        kind: str,
        epoch: int | None,
        since: int,
    ) -> None:
        if trailer.borough != peer.borough or trailer.kind != kind:
            raise FilterRejected(f"{peer.borough} sent a {trailer.kind} of {trailer.borough!r}")
        if epoch is not None and trailer.epoch != epoch:
            raise FilterRejected(f"{peer.borough} sent a delta of epoch {trailer.epoch}")
        if trailer.size != len(data) or hashlib.sha256(data).digest() != trailer.digest:
            raise FilterRejected(f"{peer.borough}'s {kind} does not match its trailer's digest")
        message = trailer_message(
            peer.borough,
            kind,
            trailer.epoch,
            since if kind == DELTA else 0,
            trailer.sequence,
            trailer.size,
            trailer.digest,
            trailer.oprf_public_key,
        )
        try:
            verify_signature(peer.verify_key, message, trailer.signature)
        except Exception:  # nacl raises BadSignatureError, or ValueError for a bad length
            raise FilterRejected(
                f"{peer.borough}'s {kind} is not signed by its pinned key"
            ) from None
        if len(trailer.oprf_public_key) != voprf.ELEMENT_SIZE:
            raise FilterRejected(f"{peer.borough}'s trailer names no OPRF public key")

    # --- peers list -------------------------------------------------------------------------

    def statuses(self, *, timeout_s: float = 3.0) -> list[PeerStatus]:
        now = dt.datetime.now(dt.UTC)

        def one(peer: Peer) -> PeerStatus:
            state = self._filters.state(peer.borough)
            held = self._filters.filter(peer.borough)
            try:
                identity = node_pb2_grpc.NodeInfoStub(self.channel(peer)).GetNodeInfo(
                    node_pb2.GetNodeInfoRequest(), timeout=timeout_s
                )
                reachable, key_set, problem = True, identity.key_set_version, ""
            except grpc.RpcError as error:
                reachable, key_set, problem = False, None, why_failed(error)
            return PeerStatus(
                peer.borough,
                peer.name,
                peer.address,
                reachable,
                key_set,
                state.epoch if state else None,
                _keys_in(held[1]) if held else None,
                state.age(now) if state else None,
                problem,
            )

        return list(self._pool.map(one, self._book.current()))


def _keys_in(published: index_filter.OverlaidFilter) -> int:
    """About how many keys a peer's filter holds: its snapshot's, with its delta's net change."""
    delta = published.delta
    return published.snapshot.size + int(delta.added.size) - int(delta.removed.size)


def _receive(stream: Iterable[check_pb2.FilterChunk]) -> tuple[bytes, check_pb2.FilterTrailer]:
    data = bytearray()
    trailer = None
    for chunk in stream:
        if chunk.HasField("trailer"):
            trailer = chunk.trailer
        elif trailer is None:
            data += chunk.data
    if trailer is None:
        raise FilterRejected("the stream ended without its signed trailer")
    return bytes(data), trailer


def _not_answered(peer: Peer, why: str) -> BoroughAnswer:
    return BoroughAnswer(peer.borough, peer.name, NOT_ANSWERED, detail=why)


def _refused(peer: Peer, why: str) -> BoroughAnswer:
    return BoroughAnswer(peer.borough, peer.name, REFUSED, detail=why)


_NOT_ANSWERED_CODES = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
)


def _failed(peer: Peer, error: grpc.RpcError) -> BoroughAnswer:
    if error.code() in _NOT_ANSWERED_CODES:
        return _not_answered(peer, why_failed(error))
    return _refused(peer, why_failed(error))


def why_failed(error: Exception) -> str:
    """A failed call to a peer, in words."""
    if isinstance(error, grpc.RpcError):
        code = error.code()
        reason = error_code_of(error)
        details = error.details() or ""
        if code is grpc.StatusCode.UNAVAILABLE:
            return "could not be reached"
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return "no answer within the deadline"
        return f"{details}" + (f" ({reason})" if reason else "")
    return str(error)


__all__ = [
    "HOLDS",
    "NOTHING",
    "NOT_ANSWERED",
    "REFUSED",
    "Asker",
    "BoroughAnswer",
    "PeerStatus",
    "Why",
]
