"""RFC 9497 OPRF(ristretto255, SHA-512): the OPRF (mode 0x00) and the VOPRF (mode 0x01).

The group operations are libsodium's ristretto255 functions, through rbcl; SHA-512 is hashlib's,
and expand_message_xmd follows RFC 9380 section 5.3.1. What this module writes is the RFC's
composition of them: HashToGroup, HashToScalar, DeriveKeyPair, Blind, BlindEvaluate, Finalize
and Evaluate, and for the VOPRF the batched DLEQ proof (GenerateProof with ComputeCompositesFast
on the server, VerifyProof with ComputeComposites on the client), under the context string
"OPRFV1-" || I2OSP(mode, 1) || "-ristretto255-SHA512".

The asker (client) calls `blind`, sends `Blinded.blinded_elements`, and passes the holder's
`Evaluation` to `finalize`, which in mode 1 first verifies the proof against the holder's public
key. The holder (server) calls `blind_evaluate` on what it received, and `evaluate`,
`evaluate_many` or `evaluate_parallel` on its own inputs to build its index: the same input gives
the same 64-byte output on both sides.

Anything that comes from elsewhere (elements, scalars, proofs, batches) is checked before it is
used, and every refusal raises `VoprfError` with the reason; no function returns False for "bad".
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from itertools import islice

import rbcl

__all__ = [
    "ELEMENT_SIZE",
    "MAX_BATCH",
    "MAX_INPUT_SIZE",
    "OUTPUT_SIZE",
    "PROOF_SIZE",
    "SCALAR_SIZE",
    "Blinded",
    "Evaluation",
    "Mode",
    "Proof",
    "VoprfError",
    "blind",
    "blind_evaluate",
    "derive_key_pair",
    "evaluate",
    "evaluate_chunks",
    "evaluate_many",
    "evaluate_parallel",
    "expand_message_xmd",
    "finalize",
    "public_key",
]

ELEMENT_SIZE = 32  # Ne: a ristretto255 element, encoded
SCALAR_SIZE = 32  # Ns: a scalar, little-endian, fully reduced
OUTPUT_SIZE = 64  # Nh: SHA-512
PROOF_SIZE = 2 * SCALAR_SIZE  # c || s
MAX_INPUT_SIZE = 0xFFFF  # an input's length is written in two bytes
MAX_BATCH = 0x10000  # a batch element's index in the proof is written in two bytes

_SUITE_ID = b"ristretto255-SHA512"
_GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493  # RFC 9496, section 4
_FIELD_PRIME = 2**255 - 19
_IDENTITY = bytes(ELEMENT_SIZE)  # the identity's one canonical encoding
_ZERO_SCALAR = bytes(SCALAR_SIZE)
_SHA512_BLOCK = 128  # s_in_bytes of RFC 9380
_SHA512_SIZE = 64  # b_in_bytes of RFC 9380
_ZERO_BLOCK_STATE = hashlib.sha512(bytes(_SHA512_BLOCK))  # Z_pad absorbed; only ever copied
_ELEMENT_LENGTH = ELEMENT_SIZE.to_bytes(2, "big")


class VoprfError(ValueError):
    """An input, element, scalar, proof or batch that the protocol refuses, and why."""


class Mode(IntEnum):
    """The RFC 9497 modes this module implements."""

    OPRF = 0x00
    VOPRF = 0x01


@dataclass(frozen=True)
class Proof:
    """The holder's batched DLEQ proof: two canonical scalars, serialized as c || s."""

    c: bytes
    s: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", _scalar(self.c, "proof scalar c", allow_zero=True))
        object.__setattr__(self, "s", _scalar(self.s, "proof scalar s", allow_zero=True))

    def to_bytes(self) -> bytes:
        """The proof as sent: SerializeScalar(c) || SerializeScalar(s), 64 bytes."""
        return self.c + self.s

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        """Parse c || s, refusing a wrong length or a scalar that is not fully reduced."""
        data = _bytes(data, "proof")
        if len(data) != PROOF_SIZE:
            raise VoprfError(f"proof: {len(data)} bytes, a proof is {PROOF_SIZE} (c || s)")
        return cls(c=data[:SCALAR_SIZE], s=data[SCALAR_SIZE:])


@dataclass(frozen=True)
class Blinded:
    """The asker's side of one batch: the elements to send, and the inputs and blinds to keep.

    Only `blinded_elements` leaves the node; the inputs (match keys) and blinds stay out of reprs.
    """

    mode: Mode
    inputs: tuple[bytes, ...] = field(repr=False)
    blinds: tuple[bytes, ...] = field(repr=False)
    blinded_elements: tuple[bytes, ...]

    @cached_property
    def inverses(self) -> tuple[bytes, ...]:
        """1 / blind of each input: one check's answers from every peer unblind with them."""
        return tuple(rbcl.crypto_core_ristretto255_scalar_invert(blind) for blind in self.blinds)


@dataclass(frozen=True)
class Evaluation:
    """The holder's answer to one batch: the evaluated elements in order and, in mode 1, one proof."""

    evaluated_elements: tuple[bytes, ...]
    proof: Proof | None = None

    def __post_init__(self) -> None:
        if isinstance(self.evaluated_elements, bytes | bytearray | memoryview | str):
            raise VoprfError("evaluated elements: expected a sequence of elements, got one string")
        object.__setattr__(self, "evaluated_elements", tuple(self.evaluated_elements))


# --- keys ----------------------------------------------------------------------------------------


def derive_key_pair(seed: bytes, info: bytes, mode: Mode | int) -> tuple[bytes, bytes]:
    """DeriveKeyPair (RFC 9497, section 3.2.1): the key pair (skS, pkS) from a 32-byte seed and info."""
    suite = _suite(mode)
    seed = _bytes(seed, "seed")
    if len(seed) != SCALAR_SIZE:
        raise VoprfError(f"seed: {len(seed)} bytes, DeriveKeyPair takes {SCALAR_SIZE}")
    derive_input = seed + _length_prefixed(_bytes(info, "info"), "info")
    for counter in range(256):
        sk = _hash_to_scalar(derive_input + bytes([counter]), suite.derive_dst)
        if sk != _ZERO_SCALAR:
            return sk, rbcl.crypto_scalarmult_ristretto255_base(sk)
    raise VoprfError("DeriveKeyPair: no non-zero scalar after 256 attempts")  # pragma: no cover


def public_key(sk: bytes) -> bytes:
    """pkS = ScalarMultGen(skS): the public key of a private key."""
    return rbcl.crypto_scalarmult_ristretto255_base(_scalar(sk, "private key"))


# --- the asker (client) --------------------------------------------------------------------------


def blind(
    inputs: Sequence[bytes], mode: Mode | int, *, blinds: Sequence[bytes] | None = None
) -> Blinded:
    """Blind (RFC 9497, section 3.3.1) each input with its own fresh random scalar.

    `blinds` fixes the scalars instead, for the RFC's test vectors only.
    """
    suite = _suite(mode)
    inputs = tuple(
        _input(value, f"input {index}") for index, value in enumerate(_batch(inputs, "inputs"))
    )
    if blinds is None:
        scalars = tuple(rbcl.crypto_core_ristretto255_scalar_random() for _ in inputs)
    else:
        _same_length(len(inputs), "inputs", len(blinds), "blinds")
        scalars = tuple(_scalar(scalar, f"blind {index}") for index, scalar in enumerate(blinds))
    elements = []
    for index, (value, scalar) in enumerate(zip(inputs, scalars, strict=True)):
        point = _hash_to_group(value, suite)
        if point == _IDENTITY:  # pragma: no cover - needs a SHA-512 preimage
            raise VoprfError(f"input {index}: hashes to the identity element")
        elements.append(rbcl.crypto_scalarmult_ristretto255(scalar, point))
    return Blinded(suite.mode, inputs, scalars, tuple(elements))


def finalize(blinded: Blinded, evaluation: Evaluation, *, pk: bytes | None = None) -> list[bytes]:
    """Finalize (RFC 9497, sections 3.3.1 and 3.3.2): the 64-byte outputs, in input order.

    In mode 1 the batched proof is verified against the holder's public key `pk` first, and a
    proof that fails raises VoprfError: no output is returned unless every element was made with
    the key behind `pk`. Every evaluated element is checked before it is used.
    """
    suite = _suite(blinded.mode)
    evaluated = _elements(evaluation.evaluated_elements, "evaluated element")
    _same_length(
        len(blinded.blinded_elements), "blinded elements", len(evaluated), "evaluated elements"
    )
    if suite.mode is Mode.VOPRF:
        if pk is None:
            raise VoprfError(
                "mode 1 (VOPRF): the holder's public key is needed to verify the proof"
            )
        if evaluation.proof is None:
            raise VoprfError("mode 1 (VOPRF): the evaluation carries no proof")
        _verify_proof(
            suite, _element(pk, "public key"), blinded.blinded_elements, evaluated, evaluation.proof
        )
    elif pk is not None or evaluation.proof is not None:
        raise VoprfError("mode 0 (OPRF) has no proof: a public key or proof means mode 1 was meant")
    outputs = []
    for value, inverse, element in zip(blinded.inputs, blinded.inverses, evaluated, strict=True):
        unblinded = rbcl.crypto_scalarmult_ristretto255(inverse, element)
        outputs.append(_finalize_hash(value, unblinded))
    return outputs


# --- the holder (server) -------------------------------------------------------------------------


def blind_evaluate(
    sk: bytes,
    blinded_elements: Sequence[bytes],
    mode: Mode | int,
    *,
    pk: bytes | None = None,
    r: bytes | None = None,
) -> Evaluation:
    """BlindEvaluate (RFC 9497, sections 3.3.1 and 3.3.2) of a batch, with one proof in mode 1.

    Every blinded element is checked (32 bytes, canonical, not the identity) before any is used.
    `pk` saves recomputing skS's public key (it must be that key, or the proof will not verify);
    `r` fixes the proof's random scalar, for the RFC's test vectors only.
    """
    suite = _suite(mode)
    sk = _scalar(sk, "private key")
    elements = _elements(blinded_elements, "blinded element")
    evaluated = tuple(rbcl.crypto_scalarmult_ristretto255(sk, element) for element in elements)
    if suite.mode is Mode.OPRF:
        if pk is not None or r is not None:
            raise VoprfError("mode 0 (OPRF) makes no proof: pk and r apply to mode 1 only")
        return Evaluation(evaluated)
    pk = public_key(sk) if pk is None else _element(pk, "public key")
    return Evaluation(evaluated, _generate_proof(suite, sk, pk, elements, evaluated, r))


def evaluate(sk: bytes, input: bytes, mode: Mode | int) -> bytes:
    """Evaluate (RFC 9497, section 3.3.1): the holder's PRF of its own input, 64 bytes.

    It equals what the asker's `finalize` gives for the same input under the same key and mode.
    """
    value = _input(input, "input")
    return _evaluate_all(_scalar(sk, "private key"), _suite(mode), (value,))[0]


def evaluate_many(sk: bytes, inputs: Iterable[bytes], mode: Mode | int) -> list[bytes]:
    """`evaluate` of every input, in order, in this process: the loop an index build runs.

    The DSTs and the hash state of RFC 9380's zero block are prepared once per suite, so each
    input costs two SHA-512 blocks for HashToGroup, libsodium's hash-to-point and one scalar
    multiplication, and one SHA-512 for Finalize.
    """
    return _evaluate_all(_scalar(sk, "private key"), _suite(mode), inputs)


def evaluate_parallel(
    sk: bytes,
    inputs: Iterable[bytes],
    mode: Mode | int,
    *,
    workers: int | None = None,
    chunk_size: int = 4096,
    executor: Executor | None = None,
    keep: int = OUTPUT_SIZE,
) -> Iterator[bytes]:
    """`evaluate_many` spread over processes in chunks; yields the outputs in input order, each
    cut to its first `keep` bytes (an index keeps 8: the workers send back only those).

    Inputs are read lazily and at most two chunks a worker are in flight, so millions of inputs
    never sit in memory at once. Without `executor`, a ProcessPoolExecutor of `workers` processes
    (default: one a CPU) is started and shut down when the iterator is exhausted or closed; with
    one, the caller owns it. A bad input raises VoprfError when its chunk's outputs are reached.

    The default pool forks (Linux): from a process that runs threads, such as a gRPC server, pass
    an executor whose mp_context is "forkserver" or "spawn" instead.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size: {chunk_size}, it must be at least 1")
    iterator = iter(inputs)
    chunks = iter(lambda: list(islice(iterator, chunk_size)), [])
    joined = evaluate_chunks(sk, chunks, mode, workers=workers, executor=executor, keep=keep)
    return (outputs[at : at + keep] for outputs in joined for at in range(0, len(outputs), keep))


def evaluate_chunks(
    sk: bytes,
    chunks: Iterable[Sequence[bytes]],
    mode: Mode | int,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    keep: int = OUTPUT_SIZE,
) -> Iterator[bytes]:
    """`evaluate_parallel` for a caller that reads its inputs in chunks of its own: yields, for
    each chunk in order, its outputs cut to `keep` bytes each and joined in one string, so a
    caller storing millions of them never handles one output at a time."""
    sk = _scalar(sk, "private key")
    suite = _suite(mode)
    if workers is not None and workers < 1:
        raise ValueError(f"workers: {workers}, it must be at least 1")
    if not 0 < keep <= OUTPUT_SIZE:
        raise ValueError(f"keep: {keep}, it must be 1-{OUTPUT_SIZE}")
    in_flight = 2 * (workers or os.cpu_count() or 1)
    return _evaluate_pooled(sk, suite.mode, chunks, in_flight, workers, executor, keep)


# --- RFC 9380 ------------------------------------------------------------------------------------


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """expand_message_xmd with SHA-512 (RFC 9380, section 5.3.1): `length` uniform bytes."""
    if not 0 < len(dst) <= 255:
        raise VoprfError(f"expand_message_xmd: a DST of {len(dst)} bytes, it must be 1 to 255")
    ell = -(-length // _SHA512_SIZE)
    if not 0 < length <= 0xFFFF or ell > 255:
        raise VoprfError(f"expand_message_xmd: cannot expand to {length} bytes")
    dst_prime = dst + bytes([len(dst)])
    state = _ZERO_BLOCK_STATE.copy()
    state.update(msg)
    state.update(length.to_bytes(2, "big") + b"\x00" + dst_prime)
    b_0 = state.digest()
    b_i = hashlib.sha512(b_0 + b"\x01" + dst_prime).digest()
    uniform = [b_i]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b_0, b_i, strict=True))
        b_i = hashlib.sha512(mixed + bytes([i]) + dst_prime).digest()
        uniform.append(b_i)
    return b"".join(uniform)[:length]


# --- the suite -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Suite:
    """One mode's context string and the domain separation tags derived from it, made once."""

    mode: Mode
    context: bytes
    group_dst: bytes
    scalar_dst: bytes
    derive_dst: bytes
    seed_dst: bytes
    group_tail: bytes  # I2OSP(64, 2) || I2OSP(0, 1) || DST_prime, after the message in b_0
    group_dst_prime: bytes  # I2OSP(1, 1) || DST_prime, after b_0 in b_1

    @classmethod
    def of(cls, mode: Mode) -> _Suite:
        context = b"OPRFV1-" + bytes([mode]) + b"-" + _SUITE_ID
        group_dst = b"HashToGroup-" + context
        dst_prime = group_dst + bytes([len(group_dst)])
        return cls(
            mode=mode,
            context=context,
            group_dst=group_dst,
            scalar_dst=b"HashToScalar-" + context,
            derive_dst=b"DeriveKeyPair" + context,
            seed_dst=b"Seed-" + context,
            group_tail=_SHA512_SIZE.to_bytes(2, "big") + b"\x00" + dst_prime,
            group_dst_prime=b"\x01" + dst_prime,
        )


_SUITES = {mode: _Suite.of(mode) for mode in Mode}


def _suite(mode: Mode | int) -> _Suite:
    try:
        return _SUITES[Mode(mode)]
    except ValueError:
        raise VoprfError(
            f"mode {mode!r}: only 0x00 (OPRF) and 0x01 (VOPRF) are implemented"
        ) from None


def _hash_to_group(value: bytes, suite: _Suite) -> bytes:
    """HashToGroup: hash_to_ristretto255 (RFC 9380, appendix B) with expand_message_xmd SHA-512."""
    state = _ZERO_BLOCK_STATE.copy()
    state.update(value)
    state.update(suite.group_tail)
    uniform = hashlib.sha512(state.digest() + suite.group_dst_prime).digest()
    return rbcl.crypto_core_ristretto255_from_hash(uniform)


def _hash_to_scalar(data: bytes, dst: bytes) -> bytes:
    """HashToScalar: 64 bytes of expand_message_xmd, read little-endian and reduced mod the order."""
    return rbcl.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(data, dst, 64))


def _finalize_hash(value: bytes, element: bytes) -> bytes:
    """Hash(I2OSP(len(input), 2) || input || I2OSP(len(element), 2) || element || "Finalize")."""
    return hashlib.sha512(
        len(value).to_bytes(2, "big") + value + _ELEMENT_LENGTH + element + b"Finalize"
    ).digest()


def _evaluate_all(
    sk: bytes, suite: _Suite, inputs: Iterable[bytes], first_index: int = 0
) -> list[bytes]:
    """Evaluate each input with sk, already checked; the hot loop of evaluate_many, kept flat.

    `first_index` is the first input's place among all, for the messages of a pool's chunks.
    """
    start = _ZERO_BLOCK_STATE.copy
    sha512 = hashlib.sha512
    from_hash = rbcl.crypto_core_ristretto255_from_hash
    multiply = rbcl.crypto_scalarmult_ristretto255
    tail, dst_prime = suite.group_tail, suite.group_dst_prime
    outputs: list[bytes] = []
    append = outputs.append
    for value in inputs:
        if len(value) > MAX_INPUT_SIZE:
            _input(value, f"input {first_index + len(outputs)}")
        state = start()
        state.update(value)
        state.update(tail)
        point = from_hash(sha512(state.digest() + dst_prime).digest())
        if point == _IDENTITY:  # pragma: no cover - needs a SHA-512 preimage
            raise VoprfError(f"input {first_index + len(outputs)}: hashes to the identity element")
        issued = multiply(sk, point)
        append(
            sha512(
                len(value).to_bytes(2, "big") + value + _ELEMENT_LENGTH + issued + b"Finalize"
            ).digest()
        )
    return outputs


def _evaluate_chunk(sk: bytes, mode: int, chunk: list[bytes], first_index: int, keep: int) -> bytes:
    """One worker's share of evaluate_parallel (module level, so a process pool can pickle it):
    the outputs cut to `keep` bytes each, joined."""
    outputs = _evaluate_all(sk, _SUITES[Mode(mode)], chunk, first_index)
    return b"".join(outputs if keep == OUTPUT_SIZE else [output[:keep] for output in outputs])


def _evaluate_pooled(
    sk: bytes,
    mode: Mode,
    chunks: Iterable[Sequence[bytes]],
    in_flight: int,
    workers: int | None,
    executor: Executor | None,
    keep: int,
) -> Iterator[bytes]:
    pool = executor if executor is not None else ProcessPoolExecutor(max_workers=workers)
    pending: deque[Future[bytes]] = deque()
    try:
        submitted = 0
        for chunk in chunks:
            pending.append(pool.submit(_evaluate_chunk, sk, int(mode), chunk, submitted, keep))
            submitted += len(chunk)
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)


# --- the proof (RFC 9497, section 2.2) -----------------------------------------------------------


def _generate_proof(
    suite: _Suite,
    k: bytes,
    b: bytes,
    cs: Sequence[bytes],
    ds: Sequence[bytes],
    r: bytes | None,
) -> Proof:
    """GenerateProof(k, A = generator, B = pkS, C = blinded, D = evaluated)."""
    m, z = _composites_fast(suite, k, b, cs, ds)
    r = rbcl.crypto_core_ristretto255_scalar_random() if r is None else _scalar(r, "proof nonce r")
    t2 = rbcl.crypto_scalarmult_ristretto255_base(r)
    t3 = _multiply(r, m)
    c = _hash_to_scalar(_challenge_transcript(b, m, z, t2, t3), suite.scalar_dst)
    s = rbcl.crypto_core_ristretto255_scalar_sub(r, rbcl.crypto_core_ristretto255_scalar_mul(c, k))
    return Proof(c=c, s=s)


def _verify_proof(
    suite: _Suite, b: bytes, cs: Sequence[bytes], ds: Sequence[bytes], proof: Proof
) -> None:
    """VerifyProof(A = generator, B = pkS, C = blinded, D = evaluated, proof); raises if it fails."""
    if not isinstance(proof, Proof):
        raise VoprfError(f"proof: expected a Proof, got {type(proof).__name__}")
    m, z = _composites(suite, b, cs, ds)
    c, s = proof.c, proof.s
    t2 = rbcl.crypto_core_ristretto255_add(
        rbcl.crypto_scalarmult_ristretto255_base_allow_scalar_zero(s), _multiply(c, b)
    )
    t3 = rbcl.crypto_core_ristretto255_add(_multiply(s, m), _multiply(c, z))
    expected = _hash_to_scalar(_challenge_transcript(b, m, z, t2, t3), suite.scalar_dst)
    if not hmac.compare_digest(expected, c):
        raise VoprfError(
            "proof does not verify: the evaluated elements were not all made, in this order, "
            "from these blinded elements with the private key of this public key"
        )


def _composites_fast(
    suite: _Suite, k: bytes, b: bytes, cs: Sequence[bytes], ds: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """ComputeCompositesFast: M = sum of d_i * C_i, and Z = k * M (the server knows k)."""
    m = _IDENTITY
    for d, c_i in zip(_composite_weights(suite, b, cs, ds), cs, strict=True):
        m = rbcl.crypto_core_ristretto255_add(_multiply(d, c_i), m)
    return m, _multiply(k, m)


def _composites(
    suite: _Suite, b: bytes, cs: Sequence[bytes], ds: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """ComputeComposites: M = sum of d_i * C_i and Z = sum of d_i * D_i."""
    m = z = _IDENTITY
    for d, c_i, d_i in zip(_composite_weights(suite, b, cs, ds), cs, ds, strict=True):
        m = rbcl.crypto_core_ristretto255_add(_multiply(d, c_i), m)
        z = rbcl.crypto_core_ristretto255_add(_multiply(d, d_i), z)
    return m, z


def _composite_weights(
    suite: _Suite, b: bytes, cs: Sequence[bytes], ds: Sequence[bytes]
) -> Iterator[bytes]:
    """The d_i of both composites: HashToScalar of (seed, i, C_i, D_i), seed bound to B."""
    seed = hashlib.sha512(_length_prefixed(b) + _length_prefixed(suite.seed_dst)).digest()
    prefix = _length_prefixed(seed)
    for i, (c_i, d_i) in enumerate(zip(cs, ds, strict=True)):
        transcript = (
            prefix
            + i.to_bytes(2, "big")
            + _length_prefixed(c_i)
            + _length_prefixed(d_i)
            + b"Composite"
        )
        yield _hash_to_scalar(transcript, suite.scalar_dst)


def _challenge_transcript(b: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes) -> bytes:
    return b"".join(_length_prefixed(part) for part in (b, m, z, t2, t3)) + b"Challenge"


def _multiply(scalar: bytes, element: bytes) -> bytes:
    """scalar * element for a checked element, the identity (all zeros) allowed in and out.

    rbcl's allow_scalar_zero variant returns zeros both for the identity and for an element
    libsodium cannot decode, so it is only ever given elements that were checked or computed.
    """
    return rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero(scalar, element)


# --- checks on what comes from elsewhere ---------------------------------------------------------


def _bytes(data: object, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise VoprfError(f"{what}: expected bytes, got {type(data).__name__}")
    return bytes(data)


def _element(data: object, what: str) -> bytes:
    """DeserializeElement: 32 bytes, libsodium's canonical ristretto255 decoding, not the identity."""
    data = _bytes(data, what)
    if len(data) != ELEMENT_SIZE:
        raise VoprfError(f"{what}: {len(data)} bytes, a ristretto255 element is {ELEMENT_SIZE}")
    if data == _IDENTITY:
        raise VoprfError(f"{what}: the identity element is refused")
    if not rbcl.crypto_core_ristretto255_is_valid_point(data):
        raise VoprfError(f"{what}: {_why_not_an_element(data)}")
    return data


def _why_not_an_element(data: bytes) -> str:
    """Why libsodium refused an encoding, in RFC 9496's terms (section 4.3.1), for the message."""
    value = int.from_bytes(data, "little")
    if value >= _FIELD_PRIME:
        return "not a canonical ristretto255 encoding (a field element of 2^255 - 19 or more)"
    if value & 1:
        return "not a canonical ristretto255 encoding (a negative field element)"
    return "not a ristretto255 encoding (it decodes to no point of the group)"


def _elements(data: Sequence[bytes], what: str) -> tuple[bytes, ...]:
    batch = _batch(data, f"{what}s")
    return tuple(_element(element, f"{what} {index}") for index, element in enumerate(batch))


def _scalar(data: object, what: str, *, allow_zero: bool = False) -> bytes:
    """DeserializeScalar: 32 bytes, little-endian, less than the group order (and non-zero)."""
    data = _bytes(data, what)
    if len(data) != SCALAR_SIZE:
        raise VoprfError(f"{what}: {len(data)} bytes, a scalar is {SCALAR_SIZE}")
    value = int.from_bytes(data, "little")
    if value >= _GROUP_ORDER:
        raise VoprfError(f"{what}: not a canonical scalar (not less than the group order)")
    if value == 0 and not allow_zero:
        raise VoprfError(f"{what}: the zero scalar is refused")
    return data


def _input(data: object, what: str) -> bytes:
    value = _bytes(data, what)
    if len(value) > MAX_INPUT_SIZE:
        raise VoprfError(f"{what}: {len(value)} bytes, an input is at most {MAX_INPUT_SIZE}")
    return value


def _batch(data: Sequence[bytes], what: str) -> tuple[bytes, ...]:
    if isinstance(data, bytes | bytearray | memoryview | str):
        raise VoprfError(
            f"{what}: expected a sequence of byte strings, got one {type(data).__name__}"
        )
    batch = tuple(data)
    if not batch:
        raise VoprfError(f"{what}: an empty batch")
    if len(batch) > MAX_BATCH:
        raise VoprfError(f"{what}: a batch of {len(batch)}, at most {MAX_BATCH} fit in a proof")
    return batch


def _same_length(count: int, what: str, other: int, other_what: str) -> None:
    if count != other:
        raise VoprfError(f"batch length mismatch: {count} {what} but {other} {other_what}")


def _length_prefixed(data: bytes, what: str = "value") -> bytes:
    if len(data) > 0xFFFF:
        raise VoprfError(f"{what}: {len(data)} bytes, at most {0xFFFF} can be length-prefixed")
    return len(data).to_bytes(2, "big") + data
