"""Signed envelopes without the network: what is signed, each refusal's code, and the nonce store."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from nacl.signing import SigningKey

from mash_common.envelope import (
    DEFAULT_WINDOW_MS,
    Acceptance,
    Ed25519Signer,
    Keyring,
    key_id,
    new_header,
    open_envelope,
    seal,
    signed_bytes,
)
from mash_common.errors import EnvelopeRefused, Refusal
from mash_common.nonces import InMemoryNonceStore
from mash_common.status import STATUS_OF_CODE
from protos.mash.federation.v1 import check_pb2, node_pb2

CHECK = "mash.federation.v1.CheckPayload"
NOW = 1_800_000_000.0


@dataclass
class FakeClock:
    now: float

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def camden() -> Ed25519Signer:
    return Ed25519Signer(SigningKey.generate())


@pytest.fixture
def accept(camden: Ed25519Signer, clock: FakeClock) -> Acceptance:
    return Acceptance(
        verify_key_for=Keyring.of([("camden", camden.verify_key)]),
        nonces=InMemoryNonceStore(clock),
        key_set_versions=frozenset({2, 3}),
        clock=clock,
    )


def payload(clock: FakeClock, borough: str = "camden", **changes: object) -> bytes:
    header = new_header(
        borough, key_set_version=2, referral_reference="CAM-1", purpose="check", clock=clock
    )
    for name, value in changes.items():
        setattr(header, name, value)
    return check_pb2.CheckPayload(header=header, blinded_elements=[b"e" * 32]).SerializeToString()


def open_as(envelope, accept: Acceptance, peer: str = "camden") -> check_pb2.CheckPayload:  # type: ignore[no-untyped-def]
    return open_envelope(
        envelope, CHECK, check_pb2.CheckPayload.FromString, peer_borough=peer, accept=accept
    )


def refusal(envelope, accept: Acceptance, peer: str = "camden") -> EnvelopeRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(EnvelopeRefused) as caught:
        open_as(envelope, accept, peer)
    return caught.value


def test_the_signature_covers_the_prefix_and_exact_payload_bytes(
    camden: Ed25519Signer, accept: Acceptance, clock: FakeClock
) -> None:
    data = payload(clock)
    envelope = seal(data, CHECK, camden, "camden", camden.key_id)
    assert signed_bytes(CHECK, data) == b"mash-federation/v1/" + CHECK.encode() + b"\x00" + data
    camden.key.verify_key.verify(signed_bytes(CHECK, data), envelope.signature)
    opened = open_as(envelope, accept)
    assert opened.header.referral_reference == "CAM-1"
    assert list(opened.blinded_elements) == [b"e" * 32]
    assert key_id(camden.verify_key) == camden.key_id and len(camden.key_id) == 16


def test_a_signature_for_another_message_type_is_refused(
    camden: Ed25519Signer, accept: Acceptance, clock: FakeClock
) -> None:
    # The same bytes signed as another type do not open as a CheckPayload (domain separation).
    envelope = seal(payload(clock), "mash.federation.v1.Other", camden, "camden", camden.key_id)
    assert refusal(envelope, accept).code is Refusal.BAD_SIGNATURE


def test_unknown_fields_are_kept_as_signed_not_reserialised(
    camden: Ed25519Signer, accept: Acceptance, clock: FakeClock
) -> None:
    # An inner message from a newer peer, with a field this release does not know: it opens,
    # because the signature is checked over the bytes as sent.
    data = payload(clock) + b"\xa2\x06\x03new"  # field 100, length-delimited
    envelope = seal(data, CHECK, camden, "camden", camden.key_id)
    assert open_as(envelope, accept).header.borough == "camden"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"borough": "hackney"}, Refusal.WRONG_BOROUGH, "the header names 'hackney'"),
        ({"key_set_version": 1}, Refusal.KEY_SET_VERSION, "accepted: 2, 3"),
        ({"nonce": b"x" * 15}, Refusal.MALFORMED, "15 bytes, not 16-64"),
        ({"nonce": b"x" * 65}, Refusal.MALFORMED, "65 bytes"),
        ({"timestamp_ms": int(NOW * 1000) - DEFAULT_WINDOW_MS - 1}, Refusal.STALE, "behind"),
        ({"timestamp_ms": int(NOW * 1000) + DEFAULT_WINDOW_MS + 1}, Refusal.STALE, "ahead of"),
        ({"timestamp_ms": 0}, Refusal.STALE, "behind"),
    ],
)
def test_header_refusals(
    camden: Ed25519Signer,
    accept: Acceptance,
    clock: FakeClock,
    change: dict[str, object],
    code: Refusal,
    words: str,
) -> None:
    envelope = seal(payload(clock, **change), CHECK, camden, "camden", camden.key_id)
    refused = refusal(envelope, accept)
    assert refused.code is code
    assert words in refused.message


def test_envelope_refusals(camden: Ed25519Signer, accept: Acceptance, clock: FakeClock) -> None:
    good = seal(payload(clock), CHECK, camden, "camden", camden.key_id)
    assert refusal(check_pb2.CheckRequest().envelope, accept).code is Refusal.MALFORMED
    assert refusal(good, accept, peer="hackney").code is Refusal.WRONG_BOROUGH
    other = Ed25519Signer(SigningKey.generate())
    unknown = seal(payload(clock), CHECK, other, "camden", other.key_id)
    assert refusal(unknown, accept).code is Refusal.UNKNOWN_KEY
    # A known key id, but the signature is another key's.
    forged = seal(payload(clock), CHECK, other, "camden", camden.key_id)
    assert refusal(forged, accept).code is Refusal.BAD_SIGNATURE
    short = seal(payload(clock), CHECK, camden, "camden", camden.key_id)
    short.signature = short.signature[:63]
    assert "63 bytes" in refusal(short, accept).message
    junk = seal(b"\xff\xff\xff", CHECK, camden, "camden", camden.key_id)
    assert refusal(junk, accept).code is Refusal.MALFORMED
    headerless = seal(
        check_pb2.CheckPayload(blinded_elements=[b"e"]).SerializeToString(),
        CHECK,
        camden,
        "camden",
        camden.key_id,
    )
    assert "no request header" in refusal(headerless, accept).message


def test_a_nonce_is_accepted_once_and_only_after_every_other_check(
    camden: Ed25519Signer, accept: Acceptance, clock: FakeClock
) -> None:
    data = payload(clock)
    envelope = seal(data, CHECK, camden, "camden", camden.key_id)
    # Refused for another reason first: the nonce is not spent.
    assert refusal(envelope, accept, peer="hackney").code is Refusal.WRONG_BOROUGH
    open_as(envelope, accept)
    assert refusal(envelope, accept).code is Refusal.REPLAYED
    # The same nonce, re-signed later: still a replay while the window lasts.
    clock.now += 200
    resigned = seal(data, CHECK, camden, "camden", camden.key_id)
    assert refusal(resigned, accept).code is Refusal.REPLAYED


def test_every_refusal_has_a_status() -> None:
    assert {str(code) for code in Refusal} <= set(STATUS_OF_CODE)


def test_seal_refuses_a_message_type_that_is_not_a_proto_name(camden: Ed25519Signer) -> None:
    with pytest.raises(ValueError, match="not a full proto message name"):
        seal(b"", "Check\x00Payload", camden, "camden", camden.key_id)


def test_parse_of_another_type_is_a_programming_error(
    camden: Ed25519Signer, accept: Acceptance, clock: FakeClock
) -> None:
    envelope = seal(payload(clock), CHECK, camden, "camden", camden.key_id)
    with pytest.raises(ValueError, match=r"parse makes mash\.federation\.v1\.GetNodeInfoRequest"):
        open_envelope(
            envelope,
            CHECK,
            node_pb2.GetNodeInfoRequest.FromString,
            peer_borough="camden",
            accept=accept,
        )


def test_nonce_store_forgets_expired_nonces_and_is_atomic(clock: FakeClock) -> None:
    store = InMemoryNonceStore(clock)
    expires = int(NOW * 1000) + 1000
    assert store.remember("camden", b"n" * 16, expires)
    assert not store.remember("camden", b"n" * 16, expires)
    assert store.remember("hackney", b"n" * 16, expires)  # nonces are per borough
    clock.now += 2
    assert store.remember("lambeth", b"m" * 16, expires + 5000)
    assert len(store) == 1  # camden's and hackney's expired

    wins = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        wins.append(store.remember("camden", b"race" * 4, expires + 10_000))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
