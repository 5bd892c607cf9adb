"""A node's index filter: a binary fuse filter of the PRF outputs of every match key it holds.

A peer looks up the PRF outputs of a check's match keys (64 bytes each, RFC 9497) in a holder's
filter: "no" is certain, "yes" is wrong about once in 2**32 lookups (32-bit fingerprints; the
design asks for at most 1e-9). Each value is reduced to its first 8 bytes (`value_hash`: the
outputs are uniformly random), which the filter mixes with its seed and maps to three slots, one
in each of three consecutive segments (Graf & Lemire 2022, "Binary Fuse Filters: Fast and
Smaller Than Xor Filters", 3-wise, sized as FastFilter/xor_singleheader sizes them): a value is
held if its fingerprint is the XOR of its three slots. About 1.125 slots a key for large sets,
so 4.5 bytes a key at 12M keys (4.52 at 1M; small sets take more: 4.9 at 20k, 5.7 at 1k).

The byte format (version 1): a 48-byte little-endian header (magic "MASHIDXF", version,
fingerprint bits, arity, segment length, segment count, a reserved zero, keys, seed, slots),
then the slots' fingerprints as little-endian integers. `load` maps a file read-only, so peers'
filters cost page cache, not heap, and a lookup reads three slots; `write` replaces a file
atomically. A filter is static: the changes since its snapshot travel as a `FilterDelta`
(sorted value hashes added, and removed as tombstones), which an `OverlaidFilter` asks first.
Signing the filter's epoch, size and digest, and sequencing deltas, are the caller's.

Why this module and not a library (measured December 2026, 2-core EPYC VM, numpy 2.4.6):
- pyfusefilter 1.3.0 (C bindings of FastFilter's filters): 8- and 16-bit fingerprints only.
  As released it builds nothing: it hashes each item in Python as xxhash of str(item), which
  xxhash 4.1 refuses ("Strings must be encoded before hashing"). Its deserialize copies into a
  C heap allocation (no mapping) and is given no length, so a truncated file from a peer is read
  past its end. Its C core, called directly, builds 12M keys (16-bit) in 1.2 s, 371 MB peak.
- binaryfuse 0.1.2 (Rust, one release): 8- and 16-bit only; serialises only through pickle, as
  JSON text of the fingerprints (8.1 bytes a key for a 16-bit filter), so no mapping either.
- Two 16-bit filters in place of one 32-bit would need either library to load without copying.
This module needs numpy only; it peels a round at a time in numpy (see _construct). Measured by
bench/index_filter.py on a loaded 2-core VM, over three runs: 1M keys build in 0.4-0.6 s (whole
process peak 132 MB), 12M in 4.5-6.6 s (588 MB, 92 MB of it the input hashes), each checked
against every key. On a mapped file one lookup takes 2-4 µs, a check's 12 values 28-60 µs, and
bulk lookups run at 12-17M a second. 32-bit filters of 1M and 12M keys gave no false positive in
10M lookups each (expected 0.002); a 16-bit filter gave 155 (expected 153). Eight peers' 1M-key
filters mapped by one process: 36 MB resident before and after mapping; lookups add their pages
(37 MB, page cache) and no heap.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import mmap
import os
import secrets
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VALUE_BYTES = 64  # an RFC 9497 ristretto255-SHA512 PRF output
FINGERPRINT_BITS = (8, 16, 32)
MAX_KEYS = 1 << 28  # far above a borough's 12M; keeps slot arithmetic exact (see _construct)

_MAGIC = b"MASHIDXF"
_VERSION = 1
_ARITY = 3
# magic, version, fingerprint bits, arity, segment length, segment count, reserved (0),
# keys, seed, slots; the fingerprints follow as little-endian integers of the given width.
_HEADER = struct.Struct("<8sHBBIIIQQQ")
_MAX_SEGMENT_LENGTH = 1 << 18
_MAX_SLOTS = 1 << 32
_ATTEMPTS = 100
_CHUNK = 1 << 20  # values hashed at once, which bounds the temporaries of a large build or lookup
_FEW = 32  # up to this many values, one at a time is faster than numpy's per-call overhead

_MASK64 = (1 << 64) - 1
_M1 = 0xFF51AFD7ED558CCD
_M2 = 0xC4CEB9FE1A85EC53
# During the peeling each slot holds (number of keys in it) * 2**40 + (sum of their indices) as a
# float64, exact as it stays below 2**53; with fewer than 2**28 keys the sum cannot reach 2**40
# unless 4,096 keys share one slot (and a build is checked against every key regardless).
_ONE_KEY = float(1 << 40)

_DELTA_MAGIC = b"MASHIDXD"
_DELTA_HEADER = struct.Struct("<8sHHIQQ")  # magic, version, reserved, reserved, added, removed


class FilterError(ValueError):
    """A serialised filter or delta that is corrupt, truncated or of another format."""


def value_hash(value: bytes | bytearray | memoryview) -> int:
    """The 64-bit hash of a 64-byte PRF output that filters and deltas hold: its first 8 bytes,
    little-endian (the output is uniformly random, so these are as good as any hash of it)."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"a filter value is bytes, not {type(value).__name__}")
    if len(value) != VALUE_BYTES:
        raise ValueError(f"a filter value is {VALUE_BYTES} bytes, not {len(value)}")
    return int.from_bytes(value[:8], "little")


def value_hashes(values: Iterable[bytes] | np.ndarray) -> np.ndarray:
    """The value hashes of many values, as a uint64 array in their order (not deduplicated).

    values: 64-byte bytes-likes, a uint8 array of shape (n, 64), or value hashes already
    (a one-dimensional uint64 array, returned as it is).
    """
    if isinstance(values, np.ndarray):
        if values.dtype == np.uint64 and values.ndim == 1:
            return values
        if values.dtype == np.uint8 and values.ndim == 2 and values.shape[1] == VALUE_BYTES:
            return np.ascontiguousarray(values[:, :8]).view("<u8").reshape(-1).astype(np.uint64)
        raise ValueError(
            f"an array of filter values is uint8 of shape (n, {VALUE_BYTES}) or uint64 value "
            f"hashes of shape (n,), not {values.dtype} of shape {values.shape}"
        )
    prefixes = bytearray()
    for value in values:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"a filter value is bytes, not {type(value).__name__}")
        if len(value) != VALUE_BYTES:
            raise ValueError(f"a filter value is {VALUE_BYTES} bytes, not {len(value)}")
        prefixes += value[:8]
    return np.frombuffer(prefixes, dtype="<u8").astype(np.uint64)


@dataclass(frozen=True)
class _Header:
    """The fixed-size start of a serialised filter: what is needed to read the fingerprints."""

    fingerprint_bits: int
    segment_length: int
    segment_count: int
    size: int
    seed: int
    slots: int

    @classmethod
    def for_size(cls, size: int, seed: int, fingerprint_bits: int) -> _Header:
        """The layout the reference C implementation (FastFilter/xor_singleheader) chooses for
        a 3-wise binary fuse filter of `size` keys: segments of 2**k slots, about 1.125 slots a
        key for large sets (more for small ones, which would otherwise rarely peel)."""
        exponent = 2 if size == 0 else math.floor(math.log(size) / math.log(3.33) + 2.25)
        segment_length = min(1 << exponent, _MAX_SEGMENT_LENGTH)
        if size <= 1:
            capacity = 0
        else:
            factor = max(1.125, 0.875 + 0.25 * math.log(1_000_000) / math.log(size))
            capacity = round(size * factor)
        slots = -(-capacity // segment_length) * segment_length
        segment_count = -(-slots // segment_length)
        segment_count = 1 if segment_count <= _ARITY - 1 else segment_count - (_ARITY - 1)
        slots = (segment_count + _ARITY - 1) * segment_length
        return cls(fingerprint_bits, segment_length, segment_count, size, seed, slots)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"<u{self.fingerprint_bits // 8}")

    @property
    def body_bytes(self) -> int:
        return self.slots * self.fingerprint_bits // 8

    def pack(self) -> bytes:
        return _HEADER.pack(
            _MAGIC,
            _VERSION,
            self.fingerprint_bits,
            _ARITY,
            self.segment_length,
            self.segment_count,
            0,
            self.size,
            self.seed,
            self.slots,
        )

    @classmethod
    def parse(cls, data: bytes | memoryview, total: int, source: str) -> _Header:
        """Read and check a header; total is the length of the whole serialised filter."""
        if len(data) < _HEADER.size:
            raise FilterError(
                f"{source}: truncated: {len(data)} bytes, shorter than the {_HEADER.size}-byte header"
            )
        magic, version, bits, arity, seg_len, seg_count, reserved, size, seed, slots = (
            _HEADER.unpack_from(data)
        )
        if magic != _MAGIC:
            raise FilterError(f"{source}: not an index filter (magic {magic!r}, not {_MAGIC!r})")
        if version != _VERSION:
            raise FilterError(f"{source}: index filter format version {version}, not {_VERSION}")
        if bits not in FINGERPRINT_BITS or arity != _ARITY or reserved != 0:
            raise FilterError(
                f"{source}: unsupported filter: {bits}-bit fingerprints (of {FINGERPRINT_BITS}), "
                f"arity {arity} (not {_ARITY}), reserved field {reserved} (not 0)"
            )
        if seg_len & (seg_len - 1) or not 4 <= seg_len <= _MAX_SEGMENT_LENGTH or seg_count < 1:
            raise FilterError(
                f"{source}: segment length {seg_len} (not a power of two from 4 to "
                f"{_MAX_SEGMENT_LENGTH}) or segment count {seg_count} (not at least 1)"
            )
        if slots != (seg_count + _ARITY - 1) * seg_len or slots >= _MAX_SLOTS:
            raise FilterError(
                f"{source}: sizes do not add up: {slots} slots for {seg_count} segments of "
                f"{seg_len} (expected {(seg_count + _ARITY - 1) * seg_len}, below {_MAX_SLOTS})"
            )
        if size > min(slots, MAX_KEYS):
            raise FilterError(f"{source}: sizes do not add up: {size} keys in {slots} slots")
        header = cls(bits, seg_len, seg_count, size, seed, slots)
        expected = _HEADER.size + header.body_bytes
        if total != expected:
            state = "truncated" if total < expected else "too long"
            raise FilterError(
                f"{source}: {state}: {total} bytes, but a filter of {slots} {bits}-bit slots "
                f"is {expected}"
            )
        return header


class IndexFilter:
    """An immutable set of value hashes answering "may hold" (false positives at about
    2**-fingerprint_bits a lookup) and "does not hold" (never wrong)."""

    __slots__ = ("_digest", "_fingerprints", "_header", "source")

    def __init__(self, header: _Header, fingerprints: np.ndarray, source: str) -> None:
        self._header = header
        self._fingerprints = fingerprints
        self._digest: bytes | None = None
        self.source = source

    def __repr__(self) -> str:
        return (
            f"IndexFilter(size={self.size:,}, fingerprint_bits={self.fingerprint_bits}, "
            f"nbytes={self.nbytes:,}, source={self.source!r})"
        )

    @property
    def size(self) -> int:
        """The number of distinct value hashes the filter was built from."""
        return self._header.size

    @property
    def nbytes(self) -> int:
        """The length of the serialised filter (header and fingerprints)."""
        return _HEADER.size + self._header.body_bytes

    @property
    def seed(self) -> int:
        """The seed the filter was built with (the first of the given seed's sequence that peeled)."""
        return self._header.seed

    @property
    def fingerprint_bits(self) -> int:
        return self._header.fingerprint_bits

    def __contains__(self, value: bytes) -> bool:
        return self.contains(value)

    def contains(self, value: bytes) -> bool:
        """Whether the filter may hold a 64-byte value: False is certain, True is wrong for
        about one value in 2**fingerprint_bits that it does not hold."""
        return self._contains_hash(value_hash(value))

    def contains_many(self, values: Iterable[bytes] | np.ndarray) -> list[bool]:
        """contains() for each of many values (as value_hashes() accepts them), in their order."""
        if isinstance(values, list | tuple) and len(values) <= _FEW:
            return [self._contains_hash(value_hash(value)) for value in values]
        return self._contains_hashes(value_hashes(values)).tolist()

    def _contains_hash(self, hashed: int) -> bool:
        header = self._header
        if header.size == 0:
            return False
        h = _mix_one(hashed, header.seed)
        h0 = (h * header.segment_length * header.segment_count) >> 64
        mask = header.segment_length - 1
        h1 = (h0 + header.segment_length) ^ ((h >> 18) & mask)
        h2 = (h0 + 2 * header.segment_length) ^ (h & mask)
        slots = self._fingerprints
        found = slots.item(h0) ^ slots.item(h1) ^ slots.item(h2)
        return found == (h ^ (h >> 32)) & ((1 << header.fingerprint_bits) - 1)

    def _contains_hashes(self, hashes: np.ndarray) -> np.ndarray:
        result = np.zeros(hashes.size, dtype=bool)
        if self._header.size == 0:
            return result
        slots = self._fingerprints
        for start in range(0, hashes.size, _CHUNK):
            mixed = _mix(hashes[start : start + _CHUNK], self._header.seed)
            h0, h1, h2 = _positions(mixed, self._header)
            found = slots[h0] ^ slots[h1] ^ slots[h2]
            np.equal(
                found, _fingerprints_of(mixed, slots.dtype), out=result[start : start + _CHUNK]
            )
        return result

    def to_bytes(self) -> bytes:
        """The serialised filter: the header, then the fingerprints (little-endian)."""
        return self._header.pack() + self._fingerprints.tobytes()

    def digest(self) -> bytes:
        """SHA-256 of the serialised filter (what its publisher signs with epoch and size)."""
        if self._digest is None:
            hasher = hashlib.sha256(self._header.pack())
            hasher.update(self._fingerprints.view(np.uint8))
            self._digest = hasher.digest()
        return self._digest

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the serialised filter to path atomically: a temporary file beside it, synced,
        renamed over it, then the folder synced. A reader that has the old file mapped keeps it."""
        path = Path(path)
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(self._header.pack())
                handle.write(self._fingerprints.view(np.uint8))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def build(
    values: Iterable[bytes] | np.ndarray,
    *,
    seed: int | None = None,
    fingerprint_bits: int = 32,
) -> IndexFilter:
    """Build the filter of a set of 64-byte values (duplicates and order do not matter).

    values: as value_hashes() accepts them. The same set and seed give the same bytes; without
    a seed one is drawn at random. A seed whose hashing does not peel (about one in 40 for sets
    of a few hundred values, far fewer for large ones) is followed by the next of a splitmix64
    sequence; the header records the seed used. 32-bit fingerprints meet the design's
    false-positive rate; 8 and 16 bits exist so tests can measure the rate itself.
    The filter is checked against every value before it is returned: no false negatives.
    """
    if fingerprint_bits not in FINGERPRINT_BITS:
        raise ValueError(f"fingerprint_bits is one of {FINGERPRINT_BITS}, not {fingerprint_bits}")
    if seed is None:
        seed = secrets.randbits(64)
    elif not 0 <= seed <= _MASK64:
        raise ValueError(f"a filter seed is a 64-bit unsigned integer, not {seed}")
    hashes = _distinct(value_hashes(values))
    if hashes.size > MAX_KEYS:
        raise ValueError(f"a filter holds at most {MAX_KEYS:,} values, not {hashes.size:,}")
    for _ in range(_ATTEMPTS):
        header = _Header.for_size(int(hashes.size), seed, fingerprint_bits)
        fingerprints = _construct(hashes, header)
        if fingerprints is not None:
            built = IndexFilter(header, fingerprints, source="built")
            if built._contains_hashes(hashes).all():
                return built
        seed = _splitmix64(seed)
    raise RuntimeError(f"no filter of {hashes.size:,} values peeled after {_ATTEMPTS} seeds")


def from_bytes(
    data: bytes | bytearray | memoryview,
    *,
    source: str = "filter bytes",
    expected_digest: bytes | None = None,
) -> IndexFilter:
    """Read a serialised filter (a bytearray or memoryview is copied first; bytes are not).

    Raises FilterError, naming source, for anything that is not a whole filter of this format,
    or (given expected_digest) whose SHA-256 differs.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    header = _Header.parse(data, len(data), source)
    _check_digest(data, expected_digest, source)
    fingerprints = np.frombuffer(data, dtype=header.dtype, count=header.slots, offset=_HEADER.size)
    return IndexFilter(header, fingerprints, source)


def load(path: str | os.PathLike[str], *, expected_digest: bytes | None = None) -> IndexFilter:
    """Map a filter file read-only: its fingerprints stay in the page cache, not the heap, and
    a lookup reads three slots. Raises FilterError as from_bytes does, naming the file.

    Replace a mapped file with write() (a new file renamed over it), never change it in place:
    a reader of a file truncated under it would fault. expected_digest reads the whole file.
    """
    source = str(path)
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        header = _Header.parse(handle.read(_HEADER.size), total, source)
        try:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as exc:  # the file shrank since fstat
            raise FilterError(f"{source}: cannot be mapped: {exc}") from None
    if len(mapped) != total:
        raise FilterError(f"{source}: changed while being opened ({len(mapped)} bytes now)")
    if hasattr(mapped, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        mapped.madvise(mmap.MADV_RANDOM)  # lookups touch slots at random: no read-ahead
    _check_digest(mapped, expected_digest, source)
    fingerprints = np.frombuffer(
        mapped, dtype=header.dtype, count=header.slots, offset=_HEADER.size
    )
    return IndexFilter(header, fingerprints, source)


def _check_digest(data: bytes | mmap.mmap, expected: bytes | None, source: str) -> None:
    if expected is None:
        return
    actual = hashlib.sha256(data).digest()
    if not hmac.compare_digest(actual, expected):
        raise FilterError(f"{source}: digest {actual.hex()} is not the expected {expected.hex()}")


# --- deltas -------------------------------------------------------------------------------------


class FilterDelta:
    """The value hashes added to and removed from a set since its filter's snapshot.

    Immutable; the two sets are sorted, distinct and disjoint. Removed hashes are tombstones: they
    hide the snapshot's answer for that hash. `then` composes a later delta onto this one, so a
    peer folds the deltas it fetches into one and keeps a snapshot and a delta.
    """

    __slots__ = ("added", "removed")

    added: np.ndarray
    removed: np.ndarray

    def __init__(
        self,
        added: Iterable[int] | np.ndarray = (),
        removed: Iterable[int] | np.ndarray = (),
    ) -> None:
        added_set, removed_set = _hash_set(added), _hash_set(removed)
        both = np.intersect1d(added_set, removed_set, assume_unique=True)
        if both.size:
            raise ValueError(f"{both.size} value hashes are both added and removed, e.g. {both[0]}")
        object.__setattr__(self, "added", added_set)
        object.__setattr__(self, "removed", removed_set)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a FilterDelta is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilterDelta):
            return NotImplemented
        return np.array_equal(self.added, other.added) and np.array_equal(
            self.removed, other.removed
        )

    def __hash__(self) -> int:
        return hash((self.added.tobytes(), self.removed.tobytes()))

    def __repr__(self) -> str:
        return f"FilterDelta(added={self.added.size:,}, removed={self.removed.size:,})"

    @classmethod
    def of_values(
        cls,
        added: Iterable[bytes] | np.ndarray = (),
        removed: Iterable[bytes] | np.ndarray = (),
    ) -> FilterDelta:
        """The delta adding and removing these 64-byte values (a value in both is refused)."""
        return cls(value_hashes(added), value_hashes(removed))

    def then(self, later: FilterDelta) -> FilterDelta:
        """This delta followed by a later one: what the later one adds or removes wins."""
        added = np.union1d(np.setdiff1d(self.added, later.removed, assume_unique=True), later.added)
        removed = np.union1d(
            np.setdiff1d(self.removed, later.added, assume_unique=True), later.removed
        )
        return FilterDelta(added, removed)

    def contains(self, value: bytes) -> bool | None:
        """True if the delta adds the value, False if it removes it, None if it says nothing."""
        return self._verdict(value_hash(value))

    def _verdict(self, hashed: int) -> bool | None:
        if _sorted_has(self.added, hashed):
            return True
        if _sorted_has(self.removed, hashed):
            return False
        return None

    def to_bytes(self) -> bytes:
        """A header (magic, version, counts), then the added and removed hashes, little-endian."""
        header = _DELTA_HEADER.pack(
            _DELTA_MAGIC, _VERSION, 0, 0, self.added.size, self.removed.size
        )
        return header + self.added.astype("<u8").tobytes() + self.removed.astype("<u8").tobytes()

    @classmethod
    def from_bytes(
        cls, data: bytes | bytearray | memoryview, *, source: str = "delta bytes"
    ) -> FilterDelta:
        """Read a serialised delta; FilterError, naming source, for anything else."""
        data = bytes(data)
        if len(data) < _DELTA_HEADER.size:
            raise FilterError(
                f"{source}: truncated: {len(data)} bytes, shorter than the "
                f"{_DELTA_HEADER.size}-byte delta header"
            )
        magic, version, reserved, reserved2, added, removed = _DELTA_HEADER.unpack_from(data)
        if magic != _DELTA_MAGIC:
            raise FilterError(
                f"{source}: not a filter delta (magic {magic!r}, not {_DELTA_MAGIC!r})"
            )
        if version != _VERSION or reserved or reserved2:
            raise FilterError(
                f"{source}: filter delta format version {version} (not {_VERSION}) or reserved "
                f"fields {reserved}, {reserved2} (not 0)"
            )
        expected = _DELTA_HEADER.size + 8 * (added + removed)
        if len(data) != expected:
            state = "truncated" if len(data) < expected else "too long"
            raise FilterError(
                f"{source}: {state}: {len(data)} bytes, but {added} added and {removed} removed "
                f"hashes make {expected}"
            )
        hashes = np.frombuffer(data, dtype="<u8", offset=_DELTA_HEADER.size).astype(np.uint64)
        added_set, removed_set = hashes[:added], hashes[added:]
        for name, part in (("added", added_set), ("removed", removed_set)):
            if part.size > 1 and not (part[1:] > part[:-1]).all():
                raise FilterError(f"{source}: the {name} hashes are not sorted and distinct")
        if np.intersect1d(added_set, removed_set, assume_unique=True).size:
            raise FilterError(f"{source}: some value hashes are both added and removed")
        return cls(added_set, removed_set)


class OverlaidFilter:
    """A peer's current set: a filter snapshot with the delta published since it.

    A lookup asks the delta first (added, then removed) and the snapshot only if the delta says
    nothing of the value.
    """

    __slots__ = ("delta", "snapshot")

    def __init__(self, snapshot: IndexFilter, delta: FilterDelta | None = None) -> None:
        self.snapshot = snapshot
        self.delta = delta if delta is not None else FilterDelta()

    def __repr__(self) -> str:
        return f"OverlaidFilter({self.snapshot!r}, {self.delta!r})"

    def __contains__(self, value: bytes) -> bool:
        return self.contains(value)

    def with_delta(self, later: FilterDelta) -> OverlaidFilter:
        """The same snapshot with a later delta composed onto this one's."""
        return OverlaidFilter(self.snapshot, self.delta.then(later))

    def contains(self, value: bytes) -> bool:
        hashed = value_hash(value)
        verdict = self.delta._verdict(hashed)
        return self.snapshot._contains_hash(hashed) if verdict is None else verdict

    def contains_many(self, values: Iterable[bytes] | np.ndarray) -> list[bool]:
        hashes = value_hashes(values)
        result = self.snapshot._contains_hashes(hashes)
        result[_sorted_isin(hashes, self.delta.removed)] = False
        result[_sorted_isin(hashes, self.delta.added)] = True
        return result.tolist()


def _hash_set(hashes: Iterable[int] | np.ndarray) -> np.ndarray:
    """Sorted distinct uint64 value hashes, read-only."""
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint64 or hashes.ndim != 1:
            raise ValueError(f"value hashes are a uint64 array of shape (n,), not {hashes.dtype}")
        array = hashes
    else:
        array = np.fromiter(hashes, dtype=np.uint64)
    array = _distinct(array)
    array.flags.writeable = False
    return array


def _sorted_has(ordered: np.ndarray, hashed: int) -> bool:
    at = int(np.searchsorted(ordered, np.uint64(hashed)))
    return at < ordered.size and int(ordered[at]) == hashed


def _sorted_isin(hashes: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    if ordered.size == 0:
        return np.zeros(hashes.size, dtype=bool)
    at = np.minimum(np.searchsorted(ordered, hashes), ordered.size - 1)
    return ordered[at] == hashes


# --- construction -------------------------------------------------------------------------------


def _construct(hashes: np.ndarray, header: _Header) -> np.ndarray | None:
    """The fingerprints of a binary fuse filter of distinct hashes, or None if they do not peel.

    Graf & Lemire's construction, with the peeling done a round at a time so that numpy does the
    work: each round takes every slot holding exactly one key, removes those keys from their three
    slots, and records (key, slot); the fingerprints are then assigned round by round in reverse.
    A key peeled in round r reads only slots assigned in later rounds or never, so a round can be
    assigned at once. Keys are sorted by their mixed hash, hence by first slot, which keeps the
    rounds' memory accesses close together.
    """
    dtype = header.dtype
    if hashes.size == 0:
        return np.zeros(header.slots, dtype=dtype)
    mixed = _mix(hashes, header.seed)  # a bijection: distinct hashes stay distinct
    mixed.sort()
    cells = np.zeros(header.slots, dtype=np.float64)
    for start in range(0, mixed.size, _CHUNK):  # in chunks: no key-sized temporaries
        weights = np.arange(start, min(start + _CHUNK, mixed.size), dtype=np.float64)
        weights += _ONE_KEY
        for positions in _positions(mixed[start : start + _CHUNK], header):
            np.add.at(cells, positions, weights)
    pending = np.flatnonzero(_holds_one_key(cells))
    rounds: list[tuple[np.ndarray, np.ndarray]] = []
    peeled = 0
    while pending.size:
        # A round peels at most _CHUNK slots, which bounds its temporaries; the rest wait.
        frontier, pending = pending[:_CHUNK], pending[_CHUNK:]
        keys = (cells[frontier] - _ONE_KEY).astype(np.intp)
        order = np.argsort(keys, kind="stable")
        keys, slots = keys[order], frontier[order]
        first = _first_of_runs(keys)  # a key alone in two slots is peeled from the lower one
        keys, slots = keys[first], slots[first]
        rounds.append((keys.astype(np.uint32), slots.astype(np.uint32)))
        peeled += keys.size
        touched = np.concatenate(_positions(mixed[keys], header))
        np.subtract.at(cells, touched, np.tile(keys + _ONE_KEY, _ARITY))
        # Slots now holding one key; waiting ones that lost theirs to this round drop out.
        touched = np.concatenate((pending, touched))
        touched = touched[_holds_one_key(cells[touched])]
        touched.sort()
        pending = touched[_first_of_runs(touched)]
    del cells
    if peeled != mixed.size:
        return None
    fingerprints = np.zeros(header.slots, dtype=dtype)
    for keys, slots in reversed(rounds):
        key_mixed = mixed[keys]
        h0, h1, h2 = _positions(key_mixed, header)
        fingerprints[slots] = (
            _fingerprints_of(key_mixed, dtype)
            ^ fingerprints[h0]
            ^ fingerprints[h1]
            ^ fingerprints[h2]
        )
    return fingerprints


def _holds_one_key(cells: np.ndarray) -> np.ndarray:
    return (cells >= _ONE_KEY) & (cells < 2 * _ONE_KEY)


def _distinct(hashes: np.ndarray) -> np.ndarray:
    ordered = np.sort(hashes)
    return ordered[_first_of_runs(ordered)]


def _first_of_runs(ordered: np.ndarray) -> np.ndarray:
    """A mask of the first element of each run of equal elements of a sorted array."""
    first = np.empty(ordered.size, dtype=bool)
    if ordered.size:
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


# --- hashing, the same in numpy and in Python integers ------------------------------------------


def _mix_one(hashed: int, seed: int) -> int:
    """MurmurHash3's 64-bit finaliser of hash + seed, as the reference implementation mixes."""
    h = (hashed + seed) & _MASK64
    h ^= h >> 33
    h = (h * _M1) & _MASK64
    h ^= h >> 33
    h = (h * _M2) & _MASK64
    return h ^ (h >> 33)


def _mix(hashes: np.ndarray, seed: int) -> np.ndarray:
    h = hashes + np.uint64(seed)  # wraps modulo 2**64, as uint64 arrays do
    h ^= h >> np.uint64(33)
    h *= np.uint64(_M1)
    h ^= h >> np.uint64(33)
    h *= np.uint64(_M2)
    h ^= h >> np.uint64(33)
    return h


def _positions(mixed: np.ndarray, header: _Header) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three slots of each mixed hash: one in each of three consecutive segments.

    h0 is the high 64 bits of mixed * (segment_count * segment_length), computed from 32-bit
    halves so that nothing overflows uint64.
    """
    span = np.uint64(header.segment_length * header.segment_count)
    high = (mixed >> np.uint64(32)) * span
    high += ((mixed & np.uint64(0xFFFFFFFF)) * span) >> np.uint64(32)
    h0 = high >> np.uint64(32)
    mask = np.uint64(header.segment_length - 1)
    length = np.uint64(header.segment_length)
    h1 = (h0 + length) ^ ((mixed >> np.uint64(18)) & mask)
    h2 = (h0 + np.uint64(2) * length) ^ (mixed & mask)
    return h0.astype(np.intp), h1.astype(np.intp), h2.astype(np.intp)


def _fingerprints_of(mixed: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return (mixed ^ (mixed >> np.uint64(32))).astype(dtype)


def _splitmix64(seed: int) -> int:
    """The next seed after one that did not peel (splitmix64's step, as the reference uses)."""
    z = (seed + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
