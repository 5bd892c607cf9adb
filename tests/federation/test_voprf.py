"""RFC 9497 VOPRF: the RFC's vectors reproduced, every refusal, and the protocol's properties."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import rbcl
from hypothesis import given, settings
from hypothesis import strategies as st

from node.federation import voprf
from node.federation.voprf import Evaluation, Mode, Proof, VoprfError

VECTORS_NAME = "rfc9497-ristretto255-sha512.json"
VECTORS = Path(__file__).resolve().parent / "vectors" / VECTORS_NAME
REPOSITORY = Path(__file__).resolve().parents[2]
# The shared folder sits beside the checkout (in CI, /work/main beside /work/shared); a git
# worktree sits a level deeper, so the nearest ancestor that has it is the one.
SHARED_VECTORS = next(
    (
        folder / "shared" / "vectors" / VECTORS_NAME
        for folder in REPOSITORY.parents
        if (folder / "shared" / "vectors" / VECTORS_NAME).is_file()
    ),
    None,
)
SUITES: list[dict[str, Any]] = [
    suite for suite in json.loads(VECTORS.read_text()) if suite["mode"] in (0, 1)
]
ORDER = 2**252 + 27742317777372353535851937790883648493
FIELD_PRIME = 2**255 - 19
PROPERTY = settings(deadline=None, max_examples=40)


def _hexes(field: str) -> list[bytes]:
    """A vector's field: one hex string, or several joined by commas for a batch."""
    return [bytes.fromhex(part) for part in field.split(",")]


def _vector_cases() -> list[Any]:
    return [
        pytest.param(suite, vector, id=f"mode{suite['mode']}-batch{vector['Batch']}-{index}")
        for suite in SUITES
        for index, vector in enumerate(suite["vectors"])
    ]


@pytest.fixture(scope="module")
def keys() -> dict[int, tuple[bytes, bytes]]:
    """One key pair per mode, derived as the RFC's vectors do."""
    return {mode: voprf.derive_key_pair(b"\xa3" * 32, b"test key", mode) for mode in Mode}


def _refused(call: Callable[[], object], *words: str) -> str:
    """Assert that call raises VoprfError whose message has every word; return the message."""
    with pytest.raises(VoprfError) as caught:
        call()
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# --- the RFC's vectors ---------------------------------------------------------------------------


def test_the_repository_copy_of_the_vectors_is_the_shared_one() -> None:
    if SHARED_VECTORS is None:
        pytest.skip("no ../shared/vectors beside this checkout")
    assert VECTORS.read_bytes() == SHARED_VECTORS.read_bytes()


def test_the_vectors_cover_modes_0_and_1_with_batches_of_1_and_2() -> None:
    cases = {(suite["mode"], vector["Batch"]) for suite in SUITES for vector in suite["vectors"]}
    assert cases == {(0, 1), (1, 1), (1, 2)}


@pytest.mark.parametrize("suite", SUITES, ids=lambda suite: f"mode{suite['mode']}")
def test_derive_key_pair_reproduces_the_vectors(suite: dict[str, Any]) -> None:
    sk, pk = voprf.derive_key_pair(
        bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), suite["mode"]
    )
    assert sk.hex() == suite["skSm"]
    assert pk == voprf.public_key(sk)
    assert voprf._SUITES[Mode(suite["mode"])].group_dst.hex() == suite["groupDST"]
    if "pkSm" in suite:
        assert pk.hex() == suite["pkSm"]


@pytest.mark.parametrize(("suite", "vector"), _vector_cases())
def test_protocol_reproduces_the_vector(suite: dict[str, Any], vector: dict[str, Any]) -> None:
    mode = suite["mode"]
    sk, pk = voprf.derive_key_pair(
        bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), mode
    )
    inputs = _hexes(vector["Input"])
    assert len(inputs) == vector["Batch"]

    blinded = voprf.blind(inputs, mode, blinds=_hexes(vector["Blind"]))
    assert list(blinded.blinded_elements) == _hexes(vector["BlindedElement"])

    if mode == Mode.VOPRF:
        r = bytes.fromhex(vector["Proof"]["r"])
        evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, mode, pk=pk, r=r)
        assert evaluation.proof is not None
        assert evaluation.proof.to_bytes().hex() == vector["Proof"]["proof"]
        assert voprf.blind_evaluate(sk, blinded.blinded_elements, mode, r=r) == evaluation
        outputs = voprf.finalize(blinded, evaluation, pk=pk)
    else:
        evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, mode)
        assert evaluation.proof is None
        outputs = voprf.finalize(blinded, evaluation)
    assert list(evaluation.evaluated_elements) == _hexes(vector["EvaluationElement"])
    assert outputs == _hexes(vector["Output"])
    assert [voprf.evaluate(sk, value, mode) for value in inputs] == outputs
    assert voprf.evaluate_many(sk, inputs, mode) == outputs


# RFC 9380, appendix K.3: expand_message_xmd(SHA-512), DST "QUUX-V01-CS02-with-expander-SHA512-256".
XMD_DST = b"QUUX-V01-CS02-with-expander-SHA512-256"
XMD_VECTORS = [
    (b"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"),
    (b"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"),
    (
        b"q128_" + b"q" * 128,
        0x20,
        "7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3",
    ),
    (
        b"abc",
        0x80,
        "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11"
        "bdd7732d8b38adb4a0edc26a0cef4bb45217135456e58fbca1703cd6032cb134"
        "7ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922b48843"
        "1851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1",
    ),
    (
        b"a512_" + b"a" * 512,
        0x80,
        "05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2"
        "426ffcad5bd964080c2aee97f03be1ca18e30a1f14e27bc11ebbd650f305269c"
        "c9fb1db08bf90bfc79b42a952b46daf810359e7bc36452684784a64952c343c5"
        "2e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf5eea5192ebff330b",
    ),
]


@pytest.mark.parametrize(("msg", "length", "expected"), XMD_VECTORS)
def test_expand_message_xmd_reproduces_rfc_9380(msg: bytes, length: int, expected: str) -> None:
    assert voprf.expand_message_xmd(msg, XMD_DST, length).hex() == expected


# --- refusals: elements --------------------------------------------------------------------------


def _valid_element() -> bytes:
    return voprf.public_key(rbcl.crypto_core_ristretto255_scalar_random())


def _bad_elements() -> list[Any]:
    element = _valid_element()
    value = int.from_bytes(element, "little")
    return [
        pytest.param(bytes(32), "the identity element", id="identity"),
        pytest.param(
            (value + FIELD_PRIME).to_bytes(32, "little"), "2^255 - 19 or more", id="at-least-p"
        ),
        pytest.param(b"\xff" * 32, "2^255 - 19 or more", id="all-ones"),
        pytest.param(
            (FIELD_PRIME - value).to_bytes(32, "little"), "negative field element", id="negative"
        ),
        pytest.param((2).to_bytes(32, "little"), "decodes to no point", id="not-a-point"),
        pytest.param(element[:31], "31 bytes", id="short"),
        pytest.param(element + b"\x00", "33 bytes", id="long"),
        pytest.param(b"", "0 bytes", id="empty"),
    ]


@pytest.mark.parametrize(("bad", "reason"), _bad_elements())
@pytest.mark.parametrize("mode", list(Mode), ids=lambda mode: mode.name)
def test_the_holder_refuses_a_bad_blinded_element(
    keys: dict[int, tuple[bytes, bytes]], mode: Mode, bad: bytes, reason: str
) -> None:
    sk, _ = keys[mode]
    good = voprf.blind([b"a"], mode).blinded_elements[0]
    _refused(lambda: voprf.blind_evaluate(sk, [good, bad], mode), "blinded element 1", reason)


@pytest.mark.parametrize(("bad", "reason"), _bad_elements())
def test_the_asker_refuses_a_bad_evaluated_element(
    keys: dict[int, tuple[bytes, bytes]], bad: bytes, reason: str
) -> None:
    sk, pk = keys[Mode.VOPRF]
    blinded = voprf.blind([b"a", b"b"], Mode.VOPRF)
    honest = voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.VOPRF)
    tampered = Evaluation((honest.evaluated_elements[0], bad), honest.proof)
    _refused(lambda: voprf.finalize(blinded, tampered, pk=pk), "evaluated element 1", reason)


@pytest.mark.parametrize(("bad", "reason"), _bad_elements())
def test_the_asker_refuses_a_bad_public_key(
    keys: dict[int, tuple[bytes, bytes]], bad: bytes, reason: str
) -> None:
    sk, _ = keys[Mode.VOPRF]
    blinded = voprf.blind([b"a"], Mode.VOPRF)
    evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.VOPRF)
    _refused(lambda: voprf.finalize(blinded, evaluation, pk=bad), "public key", reason)


def test_the_holder_checks_every_element_before_using_any(
    keys: dict[int, tuple[bytes, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sk, _ = keys[Mode.VOPRF]
    good = voprf.blind([b"a", b"b"], Mode.VOPRF).blinded_elements
    multiplied: list[bytes] = []
    real = rbcl.crypto_scalarmult_ristretto255

    def counting(scalar: bytes, element: bytes) -> bytes:
        multiplied.append(element)
        return real(scalar, element)

    monkeypatch.setattr(rbcl, "crypto_scalarmult_ristretto255", counting)
    _refused(lambda: voprf.blind_evaluate(sk, [*good, bytes(32)], Mode.VOPRF), "element 2")
    assert multiplied == []
    voprf.blind_evaluate(sk, good, Mode.VOPRF)
    assert multiplied[:2] == list(good)


@settings(deadline=None, max_examples=200)
@given(data=st.binary(min_size=32, max_size=32))
def test_random_32_bytes_are_an_element_or_refused(data: bytes) -> None:
    sk = voprf.derive_key_pair(b"\x01" * 32, b"", Mode.OPRF)[0]
    if data != bytes(32) and rbcl.crypto_core_ristretto255_is_valid_point(data):
        assert len(voprf.blind_evaluate(sk, [data], Mode.OPRF).evaluated_elements) == 1
    else:
        _refused(lambda: voprf.blind_evaluate(sk, [data], Mode.OPRF), "blinded element 0")


# --- refusals: proofs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exchange(
    keys: dict[int, tuple[bytes, bytes]],
) -> tuple[voprf.Blinded, Evaluation, bytes, bytes]:
    """One honest mode 1 exchange of three inputs: blinded, evaluation, sk, pk."""
    sk, pk = keys[Mode.VOPRF]
    blinded = voprf.blind([b"nhs|9434765919", b"dob|2010-03-04", b"name|SMITH"], Mode.VOPRF)
    return blinded, voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.VOPRF), sk, pk


def test_an_honest_exchange_finalizes(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, sk, pk = exchange
    outputs = voprf.finalize(blinded, evaluation, pk=pk)
    assert outputs == [voprf.evaluate(sk, value, Mode.VOPRF) for value in blinded.inputs]
    assert all(len(output) == voprf.OUTPUT_SIZE for output in outputs)


@pytest.mark.parametrize("bit", [0, 1, 100, 200, 250, 256, 300, 400, 500, 506])
def test_a_proof_with_one_bit_flipped_is_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes], bit: int
) -> None:
    blinded, evaluation, _, pk = exchange
    assert evaluation.proof is not None
    flipped = bytearray(evaluation.proof.to_bytes())
    flipped[bit // 8] ^= 1 << (bit % 8)

    def tampered() -> None:
        voprf.finalize(
            blinded,
            Evaluation(evaluation.evaluated_elements, Proof.from_bytes(bytes(flipped))),
            pk=pk,
        )

    _refused(tampered, "proof")


@pytest.mark.parametrize("bit", [255, 511])
def test_a_proof_scalar_flipped_past_the_group_order_is_refused_as_non_canonical(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes], bit: int
) -> None:
    _, evaluation, _, _ = exchange
    assert evaluation.proof is not None
    flipped = bytearray(evaluation.proof.to_bytes())
    flipped[bit // 8] ^= 1 << (bit % 8)
    _refused(lambda: Proof.from_bytes(bytes(flipped)), "not a canonical scalar")


def test_a_proof_made_under_another_key_is_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, _, _, pk = exchange
    other_sk, other_pk = voprf.derive_key_pair(b"\x5a" * 32, b"another borough", Mode.VOPRF)
    other = voprf.blind_evaluate(other_sk, blinded.blinded_elements, Mode.VOPRF)
    _refused(lambda: voprf.finalize(blinded, other, pk=pk), "proof does not verify")
    assert voprf.finalize(blinded, other, pk=other_pk)  # the same answer verifies under its own key


def test_elements_of_one_key_with_a_proof_of_another_are_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, _, pk = exchange
    other_sk, other_pk = voprf.derive_key_pair(b"\x5a" * 32, b"another borough", Mode.VOPRF)
    other = voprf.blind_evaluate(other_sk, blinded.blinded_elements, Mode.VOPRF)
    mixed = Evaluation(evaluation.evaluated_elements, other.proof)
    _refused(lambda: voprf.finalize(blinded, mixed, pk=pk), "proof does not verify")
    _refused(lambda: voprf.finalize(blinded, mixed, pk=other_pk), "proof does not verify")


def test_one_evaluated_element_made_with_another_key_is_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, _, pk = exchange
    other_sk, _ = voprf.derive_key_pair(b"\x5a" * 32, b"another borough", Mode.VOPRF)
    replaced = rbcl.crypto_scalarmult_ristretto255(other_sk, blinded.blinded_elements[1])
    elements = list(evaluation.evaluated_elements)
    elements[1] = replaced
    _refused(
        lambda: voprf.finalize(blinded, Evaluation(tuple(elements), evaluation.proof), pk=pk),
        "proof does not verify",
    )


def test_evaluated_elements_swapped_in_order_are_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, _, pk = exchange
    first, second, third = evaluation.evaluated_elements
    swapped = Evaluation((second, first, third), evaluation.proof)
    _refused(lambda: voprf.finalize(blinded, swapped, pk=pk), "proof does not verify")


def test_a_proof_for_other_blinded_elements_is_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, _, sk, pk = exchange
    again = voprf.blind(blinded.inputs, Mode.VOPRF)  # same inputs, fresh blinds
    answer = voprf.blind_evaluate(sk, again.blinded_elements, Mode.VOPRF)
    _refused(lambda: voprf.finalize(blinded, answer, pk=pk), "proof does not verify")


def test_mode_1_needs_a_proof_and_a_public_key(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, _, pk = exchange
    _refused(lambda: voprf.finalize(blinded, evaluation), "public key is needed")
    bare = Evaluation(evaluation.evaluated_elements)
    _refused(lambda: voprf.finalize(blinded, bare, pk=pk), "carries no proof")


def test_mode_0_takes_no_proof(keys: dict[int, tuple[bytes, bytes]]) -> None:
    sk, pk = keys[Mode.OPRF]
    blinded = voprf.blind([b"a"], Mode.OPRF)
    evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.OPRF)
    _refused(lambda: voprf.finalize(blinded, evaluation, pk=pk), "mode 0")
    _refused(
        lambda: voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.OPRF, r=b"\x01" * 32),
        "mode 0",
    )


def test_proof_serialization_round_trips_and_refuses_wrong_lengths(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    _, evaluation, _, _ = exchange
    assert evaluation.proof is not None
    data = evaluation.proof.to_bytes()
    assert len(data) == voprf.PROOF_SIZE == 64
    assert data == evaluation.proof.c + evaluation.proof.s
    assert Proof.from_bytes(data) == evaluation.proof
    _refused(lambda: Proof.from_bytes(data[:63]), "63 bytes")
    _refused(lambda: Proof.from_bytes(data + b"\x00"), "65 bytes")
    _refused(lambda: Proof.from_bytes(ORDER.to_bytes(32, "little") * 2), "not a canonical scalar")
    _refused(lambda: Proof(c=data[:32], s=data[32:63]), "proof scalar s", "31 bytes")


# --- refusals: batches, scalars, inputs, modes ---------------------------------------------------


def test_batch_length_mismatches_are_refused(
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    blinded, evaluation, _, pk = exchange
    shorter = Evaluation(evaluation.evaluated_elements[:2], evaluation.proof)
    _refused(
        lambda: voprf.finalize(blinded, shorter, pk=pk), "mismatch", "3 blinded", "2 evaluated"
    )
    longer = Evaluation((*evaluation.evaluated_elements, _valid_element()), evaluation.proof)
    _refused(lambda: voprf.finalize(blinded, longer, pk=pk), "mismatch", "4 evaluated")
    _refused(
        lambda: voprf.blind([b"a", b"b"], Mode.VOPRF, blinds=[b"\x01" + bytes(31)]),
        "mismatch",
        "2 inputs",
        "1 blinds",
    )


def test_empty_batches_are_refused(
    keys: dict[int, tuple[bytes, bytes]],
    exchange: tuple[voprf.Blinded, Evaluation, bytes, bytes],
) -> None:
    sk, pk = keys[Mode.VOPRF]
    blinded, _, _, _ = exchange
    _refused(lambda: voprf.blind([], Mode.VOPRF), "empty batch")
    _refused(lambda: voprf.blind_evaluate(sk, [], Mode.VOPRF), "empty batch")
    _refused(lambda: voprf.finalize(blinded, Evaluation(()), pk=pk), "empty batch")


def test_a_single_byte_string_is_not_taken_for_a_batch(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.OPRF]
    _refused(lambda: voprf.blind(b"abc", Mode.OPRF), "sequence of byte strings")  # type: ignore[arg-type]
    element = _valid_element()
    _refused(lambda: voprf.blind_evaluate(sk, element, Mode.OPRF), "sequence of byte strings")  # type: ignore[arg-type]
    _refused(lambda: Evaluation(element), "sequence of elements")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scalar", "reason"),
    [
        pytest.param(bytes(32), "zero scalar", id="zero"),
        pytest.param(ORDER.to_bytes(32, "little"), "not a canonical scalar", id="order"),
        pytest.param(b"\xff" * 32, "not a canonical scalar", id="all-ones"),
        pytest.param(b"\x01" * 31, "31 bytes", id="short"),
    ],
)
def test_bad_private_keys_blinds_and_nonces_are_refused(scalar: bytes, reason: str) -> None:
    element = _valid_element()
    _refused(lambda: voprf.public_key(scalar), "private key", reason)
    _refused(lambda: voprf.blind_evaluate(scalar, [element], Mode.OPRF), "private key", reason)
    _refused(lambda: voprf.evaluate(scalar, b"a", Mode.OPRF), "private key", reason)
    _refused(lambda: voprf.evaluate_many(scalar, [b"a"], Mode.OPRF), "private key", reason)
    _refused(lambda: voprf.evaluate_parallel(scalar, [b"a"], Mode.OPRF), "private key", reason)
    _refused(lambda: voprf.blind([b"a"], Mode.OPRF, blinds=[scalar]), "blind 0", reason)
    sk = voprf.derive_key_pair(b"\x01" * 32, b"", Mode.VOPRF)[0]
    _refused(lambda: voprf.blind_evaluate(sk, [element], Mode.VOPRF, r=scalar), "nonce r", reason)


def test_inputs_longer_than_two_length_bytes_allow_are_refused(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.OPRF]
    longest = b"x" * voprf.MAX_INPUT_SIZE
    too_long = longest + b"x"
    assert len(voprf.evaluate(sk, longest, Mode.OPRF)) == 64
    _refused(lambda: voprf.blind([b"a", too_long], Mode.OPRF), "input 1", "65536 bytes")
    _refused(lambda: voprf.evaluate(sk, too_long, Mode.OPRF), "input", "65536 bytes")
    _refused(lambda: voprf.evaluate_many(sk, [b"a", too_long], Mode.OPRF), "input 1")


@pytest.mark.parametrize("mode", [2, 3, -1, "1"])
def test_other_modes_are_refused(mode: Any) -> None:
    _refused(lambda: voprf.blind([b"a"], mode), "only 0x00 (OPRF) and 0x01 (VOPRF)")
    _refused(lambda: voprf.derive_key_pair(b"\x01" * 32, b"", mode), "only 0x00")


def test_derive_key_pair_takes_a_32_byte_seed() -> None:
    _refused(lambda: voprf.derive_key_pair(b"\x01" * 31, b"", Mode.VOPRF), "seed", "31 bytes")


def test_blinded_state_keeps_inputs_and_blinds_out_of_its_repr() -> None:
    blinded = voprf.blind([b"nhs|9434765919"], Mode.VOPRF)
    text = repr(blinded)
    assert "9434765919" not in text
    assert blinded.blinds[0].hex() not in text and repr(blinded.blinds[0]) not in text
    assert repr(blinded.blinded_elements[0]) in text


# --- properties ----------------------------------------------------------------------------------

SEEDS = st.binary(min_size=32, max_size=32)
INPUTS = st.lists(st.binary(max_size=64), min_size=1, max_size=4)
MODES = st.sampled_from(list(Mode))


@PROPERTY
@given(seed=SEEDS, inputs=INPUTS, mode=MODES)
def test_the_asker_gets_what_the_holder_computes(
    seed: bytes, inputs: list[bytes], mode: Mode
) -> None:
    sk, pk = voprf.derive_key_pair(seed, b"epoch 1", mode)
    blinded = voprf.blind(inputs, mode)
    evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, mode)
    outputs = voprf.finalize(blinded, evaluation, pk=pk if mode == Mode.VOPRF else None)
    assert outputs == [voprf.evaluate(sk, value, mode) for value in inputs]


@PROPERTY
@given(first=SEEDS, second=SEEDS, value=st.binary(max_size=64), mode=MODES)
def test_distinct_keys_give_distinct_outputs(
    first: bytes, second: bytes, value: bytes, mode: Mode
) -> None:
    sk_1, _ = voprf.derive_key_pair(first, b"", mode)
    sk_2, _ = voprf.derive_key_pair(second, b"", mode)
    if sk_1 != sk_2:
        assert voprf.evaluate(sk_1, value, mode) != voprf.evaluate(sk_2, value, mode)


@PROPERTY
@given(value=st.binary(max_size=64), mode=MODES)
def test_two_blindings_of_one_input_differ(value: bytes, mode: Mode) -> None:
    first = voprf.blind([value], mode).blinded_elements
    second = voprf.blind([value], mode).blinded_elements
    assert first != second


@PROPERTY
@given(seed=SEEDS, value=st.binary(max_size=64))
def test_modes_give_different_outputs(seed: bytes, value: bytes) -> None:
    sk = voprf.derive_key_pair(seed, b"", Mode.OPRF)[0]
    assert voprf.evaluate(sk, value, Mode.OPRF) != voprf.evaluate(sk, value, Mode.VOPRF)


# --- evaluating many -----------------------------------------------------------------------------

MANY = [f"v2|nhs_dob|{9434765919 + i}|2010-03-04".encode() for i in range(57)] + [b""]


@pytest.mark.parametrize("mode", list(Mode), ids=lambda mode: mode.name)
def test_evaluate_many_equals_evaluate(keys: dict[int, tuple[bytes, bytes]], mode: Mode) -> None:
    sk, _ = keys[mode]
    expected = [voprf.evaluate(sk, value, mode) for value in MANY]
    assert voprf.evaluate_many(sk, MANY, mode) == expected
    assert voprf.evaluate_many(sk, iter(MANY), mode) == expected
    assert voprf.evaluate_many(sk, [], mode) == []


def test_evaluate_parallel_equals_evaluate_in_order(keys: dict[int, tuple[bytes, bytes]]) -> None:
    sk, _ = keys[Mode.VOPRF]
    expected = [voprf.evaluate(sk, value, Mode.VOPRF) for value in MANY]
    pooled = voprf.evaluate_parallel(sk, iter(MANY), Mode.VOPRF, workers=2, chunk_size=5)
    assert list(pooled) == expected
    assert list(voprf.evaluate_parallel(sk, [], Mode.VOPRF, workers=2)) == []


def test_evaluate_parallel_keeps_the_first_bytes_asked_for(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.VOPRF]
    whole = voprf.evaluate_many(sk, MANY, Mode.VOPRF)
    kept = list(voprf.evaluate_parallel(sk, MANY, Mode.VOPRF, workers=2, chunk_size=3, keep=8))
    assert kept == [output[:8] for output in whole]
    with pytest.raises(ValueError, match="keep"):
        voprf.evaluate_parallel(sk, MANY, Mode.VOPRF, keep=65)


def test_evaluate_chunks_joins_each_chunks_outputs_in_order(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.VOPRF]
    whole = voprf.evaluate_many(sk, MANY, Mode.VOPRF)
    chunks = [MANY[:4], MANY[4:5], MANY[5:]]
    joined = list(voprf.evaluate_chunks(sk, iter(chunks), Mode.VOPRF, workers=2, keep=8))
    assert joined == [
        b"".join(output[:8] for output in whole[:4]),
        whole[4][:8],
        b"".join(output[:8] for output in whole[5:]),
    ]
    with pytest.raises(ValueError, match="keep"):
        voprf.evaluate_chunks(sk, chunks, Mode.VOPRF, keep=0)


def test_evaluate_parallel_uses_the_callers_pool_and_leaves_it_open(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.OPRF]
    expected = voprf.evaluate_many(sk, MANY, Mode.OPRF)
    with ProcessPoolExecutor(max_workers=2) as pool:
        first = list(voprf.evaluate_parallel(sk, MANY, Mode.OPRF, chunk_size=8, executor=pool))
        second = list(voprf.evaluate_parallel(sk, MANY, Mode.OPRF, chunk_size=100, executor=pool))
    assert first == second == expected


def test_evaluate_parallel_reports_a_bad_input_of_a_chunk(
    keys: dict[int, tuple[bytes, bytes]],
) -> None:
    sk, _ = keys[Mode.OPRF]
    inputs = [b"a", b"b", b"x" * (voprf.MAX_INPUT_SIZE + 1)]
    pooled = voprf.evaluate_parallel(sk, inputs, Mode.OPRF, workers=1, chunk_size=2)
    with pytest.raises(VoprfError, match="input 2: 65536 bytes"):
        list(pooled)


def test_evaluate_parallel_refuses_nonsense_sizes(keys: dict[int, tuple[bytes, bytes]]) -> None:
    sk, _ = keys[Mode.OPRF]
    with pytest.raises(ValueError, match="chunk_size"):
        voprf.evaluate_parallel(sk, MANY, Mode.OPRF, chunk_size=0)
    with pytest.raises(ValueError, match="workers"):
        voprf.evaluate_parallel(sk, MANY, Mode.OPRF, workers=0)
