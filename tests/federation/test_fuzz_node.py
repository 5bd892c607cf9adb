"""A real node's federation port under 10,000 malformed messages: every method of every service
(checks, filters, node information, disclosure requests, status questions, cancels and answers)
is sent random bytes, truncations and bit flips of a well-formed message, garbage signed with a
peer's real key, and garbage sealed to the node's real box key and signed. Every one is answered
with a status: none ends in UNKNOWN or INTERNAL (an unhandled exception), the serve process stays
up and healthy, answers a good check afterwards, logs no traceback, and its audit log verifies."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message

from mash_common.envelope import new_header, seal
from node.keys import NodeKeys, load_keys, seal_to
from node.matching.keys import KEY_SET_VERSION
from protos.mash.federation.v1 import check_pb2, disclosure_pb2, node_pb2
from protos.mash.federation.v1.envelope_pb2 import RequestHeader
from tests.federation.nodes import local_federation, serving
from tests.mtls import channel_to, wait_serving

CASES = 10_000
IN_FLIGHT = 32
CRASHES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}


@dataclass(frozen=True)
class Method:
    path: str
    streaming: bool
    valid: Callable[[], bytes]  # a well-formed message, as a peer's node would send it
    payload: Callable[[], bytes] | None = None  # the signed payload of a well-formed message
    wrap: Callable[[bytes], bytes] | None = None  # a payload signed and put in the message
    sealed_garbage: Callable[[random.Random], bytes] | None = None  # the sealed body garbage


def _header(keys: NodeKeys) -> RequestHeader:
    return new_header(
        "camden",
        key_set_version=KEY_SET_VERSION,
        referral_reference="CAM-2026-0001",
        purpose="fuzz",
        user_pseudonym=keys.pseudonym("manager"),
    )


def _methods(camden: NodeKeys, hackney: NodeKeys) -> list[Method]:
    def wrapper(payload_type: str, outer: type[Message]) -> Callable[[bytes], bytes]:
        def wrap(payload: bytes) -> bytes:
            envelope = seal(payload, payload_type, camden, "camden", camden.signing_key_id)
            return outer(envelope=envelope).SerializeToString()  # type: ignore[call-arg]

        return wrap

    def signed(
        make: Callable[[], Message], outer: type[Message] = disclosure_pb2.SignedRequest
    ) -> dict[str, Callable[..., bytes]]:
        wrap = wrapper(make().DESCRIPTOR.full_name, outer)
        return {
            "valid": lambda: wrap(make().SerializeToString()),
            "payload": lambda: make().SerializeToString(),
            "wrap": wrap,
        }

    def check() -> check_pb2.CheckPayload:
        return check_pb2.CheckPayload(header=_header(camden), blinded_elements=[b"\x01" * 32])

    def request(body: bytes | None = None) -> disclosure_pb2.RequestPayload:
        if body is None:
            body = disclosure_pb2.RequestBody(
                referral_reference="CAM-2026-0001", pathway="child"
            ).SerializeToString()
        return disclosure_pb2.RequestPayload(
            header=_header(camden),
            idempotency_key="cam-fuzz-1",
            urgency="red",
            sealed_body=seal_to(hackney.box_public_key, body),
        )

    def reference() -> disclosure_pb2.RequestRef:
        return disclosure_pb2.RequestRef(header=_header(camden), idempotency_key="cam-fuzz-1")

    def answer(body: bytes | None = None) -> disclosure_pb2.AnswerPayload:
        if body is None:
            body = disclosure_pb2.AnswerBody(matched=True).SerializeToString()
        return disclosure_pb2.AnswerPayload(
            header=_header(camden),
            idempotency_key="hac-fuzz-1",
            outcome="answered",
            sealed_body=seal_to(hackney.box_public_key, body),
        )

    def sealed_garbage(
        make: Callable[[bytes], Message],
    ) -> Callable[[random.Random], bytes]:
        wrap = wrapper(make(b"").DESCRIPTOR.full_name, disclosure_pb2.SignedRequest)
        return lambda rng: wrap(make(rng.randbytes(rng.randrange(0, 300))).SerializeToString())

    disclosure = "/mash.federation.v1.Disclosure/"
    return [
        Method(
            "/mash.federation.v1.ExistenceCheck/Check",
            False,
            **signed(check, check_pb2.CheckRequest),
        ),
        Method(
            "/mash.federation.v1.ExistenceCheck/FilterSnapshot",
            True,
            lambda: check_pb2.FilterRequest(epoch=1).SerializeToString(),
        ),
        Method(
            "/mash.federation.v1.ExistenceCheck/FilterDelta",
            True,
            lambda: check_pb2.FilterDeltaRequest(epoch=1, since_sequence=1).SerializeToString(),
        ),
        Method(
            "/mash.federation.v1.NodeInfo/GetNodeInfo",
            False,
            lambda: node_pb2.GetNodeInfoRequest().SerializeToString(),
        ),
        Method(
            disclosure + "Request", False, **signed(request), sealed_garbage=sealed_garbage(request)
        ),
        Method(disclosure + "Status", False, **signed(reference)),
        Method(disclosure + "Cancel", False, **signed(reference)),
        Method(
            disclosure + "Answer", False, **signed(answer), sealed_garbage=sealed_garbage(answer)
        ),
    ]


def _flip(data: bytes, rng: random.Random) -> bytes:
    flipped = bytearray(data) or bytearray(b"\x00")
    for _ in range(rng.randint(1, 3)):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    return bytes(flipped)


KINDS = ("random bytes", "truncated", "bits flipped", "garbage signed", "flipped, re-signed")


def _malformed(methods: list[Method], rng: random.Random) -> Iterator[tuple[Method, str, bytes]]:
    """CASES messages, each method in turn, each kind in turn; where a method has no signed
    payload (filters, node information) its signed kinds are bit flips, and where it has a sealed
    body, one case in two of "garbage signed" seals the garbage instead."""
    for case in range(CASES):
        method = methods[case % len(methods)]
        kind = KINDS[(case // len(methods)) % len(KINDS)]
        if method.wrap is None and kind in KINDS[3:]:
            kind = "bits flipped"
        if kind == "random bytes":
            yield method, kind, rng.randbytes(rng.randrange(0, 400))
        elif kind == "truncated":
            valid = method.valid()
            yield method, kind, valid[: rng.randrange(0, max(len(valid), 1))]
        elif kind == "bits flipped":
            yield method, kind, _flip(method.valid(), rng)
        elif kind == "garbage signed" and method.sealed_garbage and rng.random() < 0.5:
            yield method, "garbage sealed", method.sealed_garbage(rng)
        elif kind == "garbage signed":
            assert method.wrap is not None
            yield method, kind, method.wrap(rng.randbytes(rng.randrange(0, 200)))
        else:  # a flip that lands in the nonce, a key or a sealed body passes the header's checks
            assert method.wrap is not None and method.payload is not None
            yield method, kind, method.wrap(_flip(method.payload(), rng))


def _outcome(call: grpc.Future | Iterator[object], streaming: bool) -> grpc.StatusCode:
    try:
        if streaming:
            for _ in call:  # type: ignore[union-attr]
                pass
        else:
            call.result()  # type: ignore[union-attr]
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.slow
def test_ten_thousand_malformed_messages_to_a_real_node_each_get_a_status(tmp_path: Path) -> None:
    nodes = local_federation(tmp_path / "nodes", [("hackney", "Hackney"), ("camden", "Camden")])
    hackney, camden = nodes
    methods = _methods(
        load_keys(camden.directory / "data" / "keys"),
        load_keys(hackney.directory / "data" / "keys"),
    )
    rng = random.Random(20261206)
    statuses: Counter[tuple[str, str, grpc.StatusCode]] = Counter()
    with serving(nodes) as served:
        target = served["hackney"]
        with channel_to(
            hackney.federation_port, "hackney", served["camden"].identity, timeout=30
        ) as channel:
            calls = {
                m.path: (channel.unary_stream if m.streaming else channel.unary_unary)(m.path)
                for m in methods
            }
            pending: list[tuple[Method, str, object]] = []

            def settle() -> None:
                for method, kind, call in pending:
                    name = method.path.rsplit("/", 1)[1]
                    statuses[(name, kind, _outcome(call, method.streaming))] += 1  # type: ignore[arg-type]
                pending.clear()

            for method, kind, message in _malformed(methods, rng):
                call = calls[method.path]
                started = call(message) if method.streaming else call.future(message)  # type: ignore[attr-defined]
                pending.append((method, kind, started))
                if len(pending) == IN_FLIGHT:
                    settle()
            settle()

            assert target.process.poll() is None, "the node's serve process died"
            wait_serving(channel, "mash.federation.v1.ExistenceCheck")
            wait_serving(channel, "mash.federation.v1.Disclosure")
            info = channel.unary_unary("/mash.federation.v1.NodeInfo/GetNodeInfo")(
                node_pb2.GetNodeInfoRequest().SerializeToString()
            )
            assert node_pb2.NodeIdentity.FromString(info).borough == "hackney"
        log = target.log.read_text(encoding="utf-8")

    assert sum(statuses.values()) == CASES
    crashes = {key: count for key, count in statuses.items() if key[2] in CRASHES}
    assert not crashes, crashes
    assert "Traceback" not in log, log[-4000:]
    refused = sum(n for (_, _, code), n in statuses.items() if code != grpc.StatusCode.OK)
    assert refused > CASES * 0.9, statuses  # nearly all refused; a flip in a nonce may pass
    verify = subprocess.run(
        [sys.executable, "-m", "node.cli", "--config", str(hackney.config_path), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
