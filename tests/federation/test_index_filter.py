"""The index filter: no false negatives, the false-positive rate of its fingerprints, its byte
format (round trip, memory-mapped load, determinism, refusal of malformed files) and deltas."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.federation import index_filter
from node.federation.index_filter import (
    FilterDelta,
    FilterError,
    IndexFilter,
    OverlaidFilter,
    build,
    from_bytes,
    load,
    value_hash,
    value_hashes,
)

values_st = st.binary(min_size=64, max_size=64)
seeds_st = st.integers(min_value=0, max_value=2**64 - 1)


def random_values(count: int, seed: int) -> np.ndarray:
    """count random 64-byte values as a uint8 array of shape (count, 64)."""
    return np.random.default_rng(seed).integers(0, 256, size=(count, 64), dtype=np.uint8)


def as_bytes(values: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in values]


@pytest.fixture(scope="module")
def small() -> tuple[list[bytes], IndexFilter]:
    values = as_bytes(random_values(2_000, seed=1))
    return values, build(values, seed=7)


# --- no false negatives -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(values_st, max_size=300),
    seed=seeds_st,
    bits=st.sampled_from(index_filter.FINGERPRINT_BITS),
)
def test_every_value_built_in_is_found(values: list[bytes], seed: int, bits: int) -> None:
    built = build(values, seed=seed, fingerprint_bits=bits)
    # Values are told apart by their first 8 bytes (PRF outputs differ there but for 2**-64).
    assert built.size == len({value[:8] for value in values})
    assert all(built.contains(value) for value in values)
    assert built.contains_many(values) == [True] * len(values)


def test_a_million_values_are_all_found() -> None:
    values = random_values(1_000_000, seed=2)
    built = build(values, seed=3)
    assert built.size == 1_000_000
    assert built.nbytes / built.size < 4.53
    assert all(built.contains_many(values))
    sample = as_bytes(values[::997])
    assert all(built.contains(value) for value in sample)


def test_no_values_and_one_value() -> None:
    empty = build([], seed=1)
    assert empty.size == 0
    assert not empty.contains(bytes(64))
    assert empty.contains_many([bytes(64), b"\xff" * 64]) == [False, False]
    assert from_bytes(empty.to_bytes()).contains_many([bytes(64)]) == [False]
    one = build([b"\x01" * 64], seed=1)
    assert one.size == 1
    assert one.contains(b"\x01" * 64)
    assert not one.contains(b"\x02" * 64)


def test_a_seed_that_does_not_peel_is_followed_by_the_next() -> None:
    values = random_values(50, seed=4)
    hashes = np.sort(value_hashes(values))
    seed = next(
        s
        for s in range(1_000)
        if index_filter._construct(hashes, index_filter._Header.for_size(50, s, 32)) is None
    )
    built = build(values, seed=seed)
    assert built.seed == index_filter._splitmix64(seed)
    assert all(built.contains_many(values))
    assert build(values, seed=seed).to_bytes() == built.to_bytes()


# --- false positives ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "low", "high"),
    [
        # 1,000,000 lookups of non-members; expected hits 1e6 / 2**bits, bounds at about 5 sigma
        # (Poisson), so a filter whose rate is off by a factor of two fails.
        (8, 3_594, 4_219),  # expected 3,906
        (16, 2, 40),  # expected 15.3
        (32, 0, 2),  # expected 0.00023: the design's rate, 2.3e-10 a lookup
    ],
)
def test_false_positive_rate_is_two_to_the_minus_fingerprint_bits(
    bits: int, low: int, high: int
) -> None:
    members = random_values(100_000, seed=5)
    built = build(members, seed=6, fingerprint_bits=bits)
    others = random_values(1_000_000, seed=8)
    assert not np.isin(value_hashes(others), value_hashes(members)).any()
    hits = sum(built.contains_many(others))
    assert low <= hits <= high


def test_one_lookup_and_many_agree() -> None:
    built = build(random_values(10_000, seed=9), seed=10, fingerprint_bits=8)
    probes = as_bytes(random_values(20_000, seed=11))
    many = built.contains_many(probes)
    assert [built.contains(value) for value in probes] == many
    assert 20 < sum(many) < 200  # about 20,000 / 256 false positives: both paths see them


# --- the byte format ----------------------------------------------------------------------------


def test_bytes_round_trip(small: tuple[list[bytes], IndexFilter]) -> None:
    values, built = small
    data = built.to_bytes()
    assert len(data) == built.nbytes
    assert built.digest() == hashlib.sha256(data).digest()
    again = from_bytes(data)
    assert again.to_bytes() == data
    assert again.digest() == built.digest()
    assert (again.size, again.seed, again.fingerprint_bits) == (2_000, built.seed, 32)
    probes = values + as_bytes(random_values(1_000, seed=12))
    assert again.contains_many(probes) == built.contains_many(probes)


@pytest.mark.parametrize("count", [20_000, 100_000])
def test_at_most_five_bytes_a_key_from_twenty_thousand_keys(count: int) -> None:
    # Smaller sets get more slots a key (so that they peel): 1,000 keys take 5.5 bytes a key.
    built = build(random_values(count, seed=13), seed=1)
    assert built.nbytes / built.size <= 5.0


def test_written_file_loads_memory_mapped(
    tmp_path: Path, small: tuple[list[bytes], IndexFilter]
) -> None:
    values, built = small
    path = tmp_path / "peer.filter"
    built.write(path)
    assert path.read_bytes() == built.to_bytes()
    assert os.listdir(tmp_path) == ["peer.filter"]
    loaded = load(path, expected_digest=built.digest())
    assert isinstance(loaded._fingerprints.base.obj, mmap.mmap)
    assert loaded.digest() == built.digest()
    assert loaded.source == str(path)
    assert all(loaded.contains(value) for value in values)
    assert loaded.to_bytes() == built.to_bytes()


def test_writing_replaces_a_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "peer.filter"
    old_values = as_bytes(random_values(100, seed=14))
    build(old_values, seed=1).write(path)
    old = load(path)
    new_values = as_bytes(random_values(100, seed=15))
    build(new_values, seed=1).write(path)
    new = load(path)
    assert all(old.contains_many(old_values)), "a mapped old file keeps its content"
    assert all(new.contains_many(new_values))
    assert os.listdir(tmp_path) == ["peer.filter"]


def test_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "peer.filter"
    old = build(as_bytes(random_values(10, seed=16)), seed=1)
    old.write(path)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(index_filter.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        build(as_bytes(random_values(10, seed=17)), seed=1).write(path)
    assert path.read_bytes() == old.to_bytes()
    assert os.listdir(tmp_path) == ["peer.filter"]


def test_same_set_and_seed_give_the_same_bytes() -> None:
    array = random_values(5_000, seed=18)
    values = as_bytes(array)
    shuffled = values + values[:100]
    random.Random(1).shuffle(shuffled)
    first = build(values, seed=42)
    assert build(shuffled, seed=42).to_bytes() == first.to_bytes()
    assert build(array, seed=42).digest() == first.digest()
    assert build(value_hashes(array), seed=42).digest() == first.digest()
    assert build(values, seed=43).digest() != first.digest()
    assert build(values).seed != build(values).seed  # no seed: a random one


def test_wrong_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes, not 63"):
        build([bytes(63)])
    with pytest.raises(TypeError, match="not str"):
        build(["a" * 64])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="shape"):
        build(np.zeros((3, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="fingerprint_bits"):
        build([], fingerprint_bits=12)
    with pytest.raises(ValueError, match="64-bit"):
        build([], seed=-1)
    built = build([bytes(64)], seed=1)
    with pytest.raises(ValueError, match="64 bytes, not 8"):
        built.contains(bytes(8))


def test_value_hash_is_the_first_eight_bytes_little_endian() -> None:
    value = bytes(range(64))
    assert value_hash(value) == 0x0706050403020100
    assert value_hashes([value]).tolist() == [0x0706050403020100]


# --- malformed files ----------------------------------------------------------------------------


def _with(data: bytes, at: int, fmt: str, value: int) -> bytes:
    import struct

    changed = bytearray(data)
    struct.pack_into(fmt, changed, at, value)
    return bytes(changed)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: b"NOTAFILT" + d[8:], "not an index filter"),
        (lambda d: _with(d, 8, "<H", 2), "format version 2, not 1"),
        (lambda d: _with(d, 10, "<B", 24), "24-bit fingerprints"),
        (lambda d: _with(d, 11, "<B", 4), "arity 4"),
        (lambda d: _with(d, 12, "<I", 100), "segment length 100"),
        (lambda d: _with(d, 16, "<I", 0), "segment count 0"),
        (lambda d: _with(d, 20, "<I", 1), "reserved field 1"),
        (lambda d: _with(d, 24, "<Q", 10**9), "sizes do not add up: 1000000000 keys"),
        (lambda d: _with(d, 40, "<Q", 99), "sizes do not add up: 99 slots"),
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\0", "too long"),
        (lambda d: d[:47], "truncated: 47 bytes, shorter than the 48-byte header"),
        (lambda d: b"", "truncated: 0 bytes"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(
    tmp_path: Path, small: tuple[list[bytes], IndexFilter], change, message: str
) -> None:
    path = tmp_path / "peer-camden.filter"
    path.write_bytes(change(small[1].to_bytes()))
    with pytest.raises(FilterError, match=message) as refused:
        load(path)
    assert str(path) in str(refused.value)
    with pytest.raises(FilterError, match=message):
        from_bytes(path.read_bytes(), source="camden snapshot")


def test_a_digest_other_than_expected_is_refused(
    tmp_path: Path, small: tuple[list[bytes], IndexFilter]
) -> None:
    path = tmp_path / "peer.filter"
    small[1].write(path)
    with pytest.raises(FilterError, match=r"digest \w+ is not the expected"):
        load(path, expected_digest=bytes(32))
    with pytest.raises(FilterError, match="digest"):
        from_bytes(small[1].to_bytes(), expected_digest=bytes(32))


@pytest.fixture(scope="module")
def tiny_file() -> bytes:
    return build(as_bytes(random_values(40, seed=19)), seed=1, fingerprint_bits=16).to_bytes()


def _filter_or_refusal(data: bytes) -> None:
    try:
        loaded = from_bytes(data)
    except FilterError:
        return
    loaded.contains(bytes(64))
    loaded.contains_many([bytes(64), b"\xff" * 64])
    loaded.digest()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_give_a_filter_or_a_filter_error(data: bytes) -> None:
    _filter_or_refusal(data)
    _filter_or_refusal(index_filter._MAGIC + data)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.integers(min_value=0, max_value=10_000), max_size=4),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    suffix=st.binary(max_size=8),
)
def test_damaged_files_give_a_filter_or_a_filter_error(
    tiny_file: bytes, flips: list[int], cut: int | None, suffix: bytes
) -> None:
    damaged = bytearray(tiny_file)
    for bit in flips:
        damaged[(bit // 8) % len(damaged)] ^= 1 << (bit % 8)
    if cut is not None:
        damaged = damaged[: cut % (len(damaged) + 1)] + suffix
    _filter_or_refusal(bytes(damaged))


def test_damaged_file_on_disk_gives_a_filter_error(tmp_path: Path, tiny_file: bytes) -> None:
    path = tmp_path / "peer.filter"
    for cut in range(0, len(tiny_file), 7):
        path.write_bytes(tiny_file[:cut])
        with pytest.raises(FilterError, match=str(path)):
            load(path)


# --- deltas -------------------------------------------------------------------------------------


def test_delta_overlays_a_snapshot() -> None:
    kept, gone, new = (as_bytes(random_values(50, seed=s)) for s in (20, 21, 22))
    snapshot = build(kept + gone, seed=1)
    view = OverlaidFilter(snapshot, FilterDelta.of_values(added=new, removed=gone))
    assert all(view.contains(value) for value in kept + new)
    assert not any(view.contains(value) for value in gone)
    assert view.contains_many(kept + gone + new) == [True] * 50 + [False] * 50 + [True] * 50
    back = view.with_delta(FilterDelta.of_values(added=gone[:10], removed=new[:10]))
    assert back.contains_many(gone[:10] + new[:10] + gone[10:]) == [True] * 10 + [False] * 50


@settings(max_examples=100, deadline=None)
@given(
    universe=st.lists(values_st, min_size=1, max_size=30, unique_by=lambda value: value[:8]),
    initial=st.sets(st.integers(min_value=0, max_value=29)),
    steps=st.lists(
        st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=29)), max_size=8),
        max_size=6,
    ),
)
def test_deltas_compose_as_the_changes_they_record(
    universe: list[bytes], initial: set[int], steps: list[list[tuple[bool, int]]]
) -> None:
    held = {universe[i % len(universe)] for i in initial}
    view = OverlaidFilter(build(held, seed=1))
    for step in steps:
        added: set[bytes] = set()
        removed: set[bytes] = set()
        for add, i in step:  # within one delta, the last change of a value wins
            value = universe[i % len(universe)]
            (added if add else removed).add(value)
            (removed if add else added).discard(value)
        held = (held - removed) | added
        delta = FilterDelta.of_values(added=sorted(added), removed=sorted(removed))
        view = view.with_delta(FilterDelta.from_bytes(delta.to_bytes()))
        assert view.contains_many(universe) == [value in held for value in universe]
        assert [view.contains(value) for value in universe] == [value in held for value in universe]


def test_delta_verdicts_and_bytes() -> None:
    a, b, c = b"\x01" * 64, b"\x02" * 64, b"\x03" * 64
    delta = FilterDelta.of_values(added=[a, a], removed=[b])
    assert (delta.contains(a), delta.contains(b), delta.contains(c)) == (True, False, None)
    assert delta.added.tolist() == [value_hash(a)]
    assert FilterDelta.from_bytes(delta.to_bytes()) == delta
    assert FilterDelta() == FilterDelta.from_bytes(FilterDelta().to_bytes())
    with pytest.raises(ValueError, match="both added and removed"):
        FilterDelta.of_values(added=[a], removed=[a])
    with pytest.raises(AttributeError):
        delta.added = delta.removed  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (b"MASHIDXF" + bytes(24), "not a filter delta"),
        (FilterDelta(added=[1]).to_bytes()[:-1], "truncated"),
        (FilterDelta(added=[1]).to_bytes() + bytes(8), "too long"),
    ],
)
def test_malformed_deltas_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        FilterDelta.from_bytes(data, source="camden delta 7")


def test_unsorted_or_overlapping_delta_bytes_are_refused() -> None:
    header = FilterDelta(added=[1, 2]).to_bytes()[: index_filter._DELTA_HEADER.size]
    unsorted = header + (2).to_bytes(8, "little") + (1).to_bytes(8, "little")
    with pytest.raises(FilterError, match="camden delta 7: the added hashes are not sorted"):
        FilterDelta.from_bytes(unsorted, source="camden delta 7")
    overlap = FilterDelta(added=[1], removed=[2]).to_bytes()[:-8] + (1).to_bytes(8, "little")
    with pytest.raises(FilterError, match="both added and removed"):
        FilterDelta.from_bytes(overlap)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=120))
def test_random_delta_bytes_give_a_delta_or_a_filter_error(data: bytes) -> None:
    for candidate in (data, index_filter._DELTA_MAGIC + data):
        with contextlib.suppress(FilterError):
            FilterDelta.from_bytes(candidate)
