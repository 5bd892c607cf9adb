"""Malformed requests never crash a server: 10,000 of them (random bytes, truncations and bit flips
of a valid request, garbage payloads signed with a valid key) each get a typed refusal, and the
server is still healthy and answering afterwards."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from mash_common.envelope import seal
from protos.mash.federation.v1 import check_pb2
from tests.mtls import (
    CHECK_PAYLOAD,
    Federation,
    acceptance,
    channel_to,
    check_request,
    check_server,
    make_federation,
    wait_serving,
)

CASES = 10_000
IN_FLIGHT = 64
REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
}


def flip(data: bytes, rng: random.Random) -> bytes:
    flipped = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def malformed(federation: Federation, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Serialized CheckRequests, or what stands in for one, by kind."""
    valid = check_request(federation, "camden").SerializeToString()
    signer = federation.signers["camden"]
    inner = check_request(federation, "camden").envelope.payload
    for case in range(CASES):
        kind = case % 5
        if kind == 0:
            yield "random bytes", rng.randbytes(rng.randrange(0, 400))
        elif kind == 1:
            yield "truncated", valid[: rng.randrange(0, len(valid))]
        elif kind == 2:
            yield "bits flipped", flip(valid, rng)
        elif kind == 3:  # parsed, since the signature is good, then refused
            payload = rng.randbytes(rng.randrange(0, 200))
            envelope = seal(payload, CHECK_PAYLOAD, signer, "camden", signer.key_id)
            yield "garbage signed", check_pb2.CheckRequest(envelope=envelope).SerializeToString()
        else:  # the header's checks see garbage; a flip that only changes the nonce or the
            # elements makes a valid request (camden signed it), answered OK once per nonce
            envelope = seal(flip(inner, rng), CHECK_PAYLOAD, signer, "camden", signer.key_id)
            yield (
                "flipped, re-signed",
                check_pb2.CheckRequest(envelope=envelope).SerializeToString(),
            )


@pytest.mark.slow
def test_ten_thousand_malformed_requests_each_get_a_refusal(tmp_path: Path) -> None:
    federation = make_federation(tmp_path)
    rng = random.Random(20261206)
    statuses: Counter[tuple[str, grpc.StatusCode]] = Counter()
    with (
        check_server(federation, "hackney", acceptance(federation)) as port,
        channel_to(port, "hackney", federation.identities["camden"], timeout=30) as channel,
    ):
        wait_serving(channel)
        raw = channel.unary_unary("/mash.federation.v1.ExistenceCheck/Check")
        pending: list[tuple[str, grpc.Future]] = []
        for kind, request in malformed(federation, rng):
            pending.append((kind, raw.future(request)))
            if len(pending) == IN_FLIGHT:
                statuses.update((kind, _outcome(call)) for kind, call in pending)
                pending.clear()
        statuses.update((kind, _outcome(call)) for kind, call in pending)

        wait_serving(channel, "mash.federation.v1.ExistenceCheck")
        stub_answer = raw(check_request(federation, "camden").SerializeToString())
        assert check_pb2.CheckResponse.FromString(stub_answer).epoch == 1

    assert sum(statuses.values()) == CASES
    answered = {(kind, status) for kind, status in statuses if status not in REFUSALS}
    assert answered <= {("flipped, re-signed", grpc.StatusCode.OK)}, statuses
    codes = Counter[grpc.StatusCode]()
    for (_, status), count in statuses.items():
        codes[status] += count
    assert codes[grpc.StatusCode.INVALID_ARGUMENT] > 2000, statuses
    assert codes[grpc.StatusCode.PERMISSION_DENIED] > 2000, statuses


def _outcome(call: grpc.Future) -> grpc.StatusCode:
    try:
        call.result()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK
