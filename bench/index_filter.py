"""Index filter: build time and memory, bytes a key, false positives, lookups, mapped peers.

Run: .venv/bin/python -m bench.index_filter [--keys 1000000,12000000] [--lookups 10000000]
     [--peers 8] [--peer-keys 1000000]

For each size, a child process (spawn) builds the filter of that many random 64-byte values,
given as their value hashes (a uint64 array, as a node hashes its PRF outputs as it derives
them), with 32-bit fingerprints; the time is node.federation.index_filter.build, which includes
its check of every value, and the peak memory is the child's ru_maxrss (interpreter, numpy and
the input array included; the input's own size is printed). It writes the filter to
bench/out/index-filter/<size>.filter, maps it again with load(), and on the mapped filter counts
the false positives among --lookups random 64-byte values that are not members (any that are
are left out and counted), and times lookups: contains() of one value, contains_many() of 12
(a check's keys at one peer), and contains_many() of a million. At the first size, a 16-bit
filter of the same values is measured too: its rate, about 2**-16, is large enough to measure
and shows the fingerprints behave as the design assumes; the 32-bit rate (2.3e-10) is too small
for 10M lookups to see, which the printed bound says.

Then --peers filters of --peer-keys values each are built into bench/out/index-filter/peers/
(once; reused while they are there), and a fresh child maps all of them and looks up 100,000
random values in each: its resident memory is printed before and after mapping, and after the
lookups, split into anonymous (heap) and file-backed (page cache, shared and reclaimable).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.import_throughput import (
    OUT,
    format_table,
    machine_lines,
    peak_rss_mb,
    run_in_child,
    status_mb,
)

FILTERS = OUT / "index-filter"
PEERS = FILTERS / "peers"
DEFAULT_KEYS = (1_000_000, 12_000_000)
DEFAULT_LOOKUPS = 10_000_000
CHECK_KEYS = 12  # the most match keys a check asks a peer about
CHUNK = 1_000_000
TARGET_BYTES_PER_KEY = 5.0


@dataclass(frozen=True)
class SizeResult:
    """One size's figures, measured in a child process."""

    keys: int
    fingerprint_bits: int
    build_seconds: float
    peak_mb: float
    input_mb: float
    nbytes: int
    write_seconds: float
    load_ms: float
    lookups: int
    members_skipped: int
    hits: int
    vector_seconds: float
    one_us: float
    twelve_us: float


@dataclass(frozen=True)
class PeersResult:
    """Resident memory of one process mapping several peers' filters."""

    peers: int
    keys_each: int
    file_mb: float
    start_mb: float
    start_anon_mb: float
    start_file_mb: float
    mapped_mb: float
    after_anon_mb: float
    after_file_mb: float
    peak_mb: float
    lookups: int
    hits: int
    seconds: float


def measure_size(keys: int, lookups: int, fingerprint_bits: int, seed: int) -> SizeResult:
    """Child: build, write, map and measure one filter (see the module docstring)."""
    import numpy as np

    from node.federation.index_filter import build, load

    hashes = np.random.default_rng(seed).integers(0, 2**64, size=keys, dtype=np.uint64)
    started = time.perf_counter()
    built = build(hashes, seed=seed, fingerprint_bits=fingerprint_bits)
    build_seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    path = FILTERS / f"{keys}-{fingerprint_bits}bit.filter"
    started = time.perf_counter()
    built.write(path)
    write_seconds = time.perf_counter() - started
    del built
    started = time.perf_counter()
    mapped = load(path)
    load_ms = (time.perf_counter() - started) * 1000
    members = np.sort(hashes)
    del hashes

    rng = np.random.default_rng(seed + 1)
    hits = skipped = 0
    vector_seconds = 0.0
    for start in range(0, lookups, CHUNK):
        values = rng.integers(0, 256, size=(min(CHUNK, lookups - start), 64), dtype=np.uint8)
        first = np.ascontiguousarray(values[:, :8]).view("<u8").reshape(-1)
        at = np.minimum(np.searchsorted(members, first), members.size - 1)
        member = members[at] == first
        skipped += int(member.sum())
        values = values[~member]
        started = time.perf_counter()
        hits += sum(mapped.contains_many(values))
        vector_seconds += time.perf_counter() - started

    probes = [row.tobytes() for row in rng.integers(0, 256, size=(20_000, 64), dtype=np.uint8)]
    one_us = _median_us(lambda: [mapped.contains(value) for value in probes], len(probes))
    groups = [probes[i : i + CHECK_KEYS] for i in range(0, 12_000, CHECK_KEYS)]
    twelve_us = _median_us(lambda: [mapped.contains_many(group) for group in groups], len(groups))
    return SizeResult(
        keys=keys,
        fingerprint_bits=fingerprint_bits,
        build_seconds=build_seconds,
        peak_mb=peak,
        input_mb=keys * 8 / 2**20,
        nbytes=mapped.nbytes,
        write_seconds=write_seconds,
        load_ms=load_ms,
        lookups=lookups - skipped,
        members_skipped=skipped,
        hits=hits,
        vector_seconds=vector_seconds,
        one_us=one_us,
        twelve_us=twelve_us,
    )


def _median_us(run: object, calls: int, repeats: int = 5) -> float:
    """The median over repeats of run()'s time, in µs a call."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) / calls * 1e6


def measure_hashing(count: int) -> float:
    """Child: seconds value_hashes() takes to reduce `count` 64-byte bytes objects."""
    import numpy as np

    from node.federation.index_filter import value_hashes

    rng = np.random.default_rng(3)
    values = [row.tobytes() for row in rng.integers(0, 256, size=(count, 64), dtype=np.uint8)]
    started = time.perf_counter()
    value_hashes(values)
    return time.perf_counter() - started


def build_peers(peers: int, keys: int) -> list[Path]:
    """Child: write (once) the filters of `peers` peers of `keys` random values each."""
    import numpy as np

    from node.federation.index_filter import build

    PEERS.mkdir(parents=True, exist_ok=True)
    paths = []
    for peer in range(peers):
        path = PEERS / f"peer-{peer}-{keys}.filter"
        if not path.exists():
            rng = np.random.default_rng(1_000 + peer)
            build(rng.integers(0, 2**64, size=keys, dtype=np.uint64), seed=peer).write(path)
        paths.append(path)
    return paths


def measure_peers(paths: list[Path], lookups_each: int) -> PeersResult:
    """Child: map every peer's filter, look up random values in each, report resident memory."""
    import numpy as np

    from node.federation.index_filter import load

    start_mb, start_anon_mb, start_file_mb = (status_mb(f) for f in ("VmRSS", "RssAnon", "RssFile"))
    mapped = [load(path) for path in paths]
    mapped_mb = status_mb("VmRSS")
    rng = np.random.default_rng(7)
    hits = 0
    seconds = 0.0
    for peer in mapped:
        values = rng.integers(0, 256, size=(lookups_each, 64), dtype=np.uint8)
        started = time.perf_counter()
        hits += sum(peer.contains_many(values))
        seconds += time.perf_counter() - started
        del values
    return PeersResult(
        peers=len(paths),
        keys_each=mapped[0].size,
        file_mb=sum(path.stat().st_size for path in paths) / 2**20,
        start_mb=start_mb,
        start_anon_mb=start_anon_mb,
        start_file_mb=start_file_mb,
        mapped_mb=mapped_mb,
        after_anon_mb=status_mb("RssAnon"),
        after_file_mb=status_mb("RssFile"),
        peak_mb=peak_rss_mb(),
        lookups=lookups_each * len(paths),
        hits=hits,
        seconds=seconds,
    )


def run(sizes: Sequence[int], lookups: int, peers: int, peer_keys: int) -> None:
    _emit(["Index filter (binary fuse, 3-wise, node/federation/index_filter.py)", ""])
    _emit(machine_lines())
    FILTERS.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    for number, size in enumerate(sizes):
        for bits in (32, 16) if number == 0 else (32,):
            result = run_in_child(measure_size, size, lookups, bits, 20 + number)
            results.append(result)
            _emit([f"  measured: {size:,} keys, {bits}-bit: build {result.build_seconds:.1f} s"])
    _emit(["", *_size_report(results)])
    hashing = run_in_child(measure_hashing, 1_000_000)
    _emit([
        f"  value_hashes() of 1,000,000 values as bytes objects: {hashing:.2f} s (a build from "
        "bytes adds this a million values; the rows above start from the hashes)"
    ])  # fmt: skip

    paths = run_in_child(build_peers, peers, peer_keys)
    lookups_each = 100_000
    held = run_in_child(measure_peers, paths, lookups_each)
    _emit(["", *_peers_report(held)])


def _size_report(results: list[SizeResult]) -> list[str]:
    rows = [
        (
            r.keys,
            r.fingerprint_bits,
            r.build_seconds,
            round(r.peak_mb),
            round(r.input_mb),
            f"{r.nbytes / r.keys:.3f}",
            round(r.nbytes / 2**20, 1),
            f"{r.write_seconds:.2f}",
            f"{r.load_ms:.2f}",
        )
        for r in results
    ]
    header = (
        "keys", "bits", "build s", "peak MB", "input MB", "bytes/key", "file MB", "write s",
        "load ms",
    )  # fmt: skip
    lines = ["Build, size, write and load (load maps the file)", format_table(header, rows), ""]
    rows = []
    for r in results:
        expected = r.lookups / 2**r.fingerprint_bits
        rows.append(
            (
                r.keys,
                r.fingerprint_bits,
                r.lookups,
                r.hits,
                f"{r.hits / r.lookups:.3g}",
                f"{expected:.3g}",
                _upper_bound(r.hits, r.lookups),
                f"{r.one_us:.1f}",
                f"{r.twelve_us:.0f}",
                f"{r.lookups / r.vector_seconds / 1e6:.1f}",
            )
        )
    header = (
        "keys", "bits", "non-members", "hits", "rate", "expected hits", "95% upper bound",
        "1 value µs", "12 values µs", "M lookups/s",
    )  # fmt: skip
    lines += [
        "False positives over lookups of random non-members, on the mapped filter; lookup times",
        format_table(header, rows),
        "  members drawn among the random values and left out: "
        + ", ".join(f"{r.keys:,}/{r.fingerprint_bits}: {r.members_skipped}" for r in results),
        "targets:",
    ]
    for r in results:
        if r.fingerprint_bits != 32:
            continue
        per_key = r.nbytes / r.keys
        lines.append(
            _target(
                f"{r.keys:,} keys: <= 5 bytes a key ({per_key:.3f})",
                per_key <= TARGET_BYTES_PER_KEY,
            )
        )
        lines.append(
            _target(
                f"{r.keys:,} keys: false-positive rate <= 1e-9: 2**-32 = {2**-32:.2g} by design, "
                f"{r.hits} false positives in {r.lookups:,} lookups "
                f"(expected {r.lookups / 2**32:.2g}; {r.lookups:,} lookups can only bound the rate "
                f"below {_upper_bound(r.hits, r.lookups)}, the 16-bit row checks the mechanism)",
                r.hits == 0,
            )
        )
    return lines


def _upper_bound(hits: int, trials: int) -> str:
    """A one-sided 95% upper bound on a rate from hits in trials: the Poisson bound by
    Wilson and Hilferty's approximation (within 1% of the exact one; 3.0 hits for none)."""
    k = hits + 1
    mean = k * (1 - 1 / (9 * k) + 1.645 / (3 * math.sqrt(k))) ** 3
    return f"{mean / trials:.2g}"


def _peers_report(held: PeersResult) -> list[str]:
    return [
        f"{held.peers} peers' filters of {held.keys_each:,} keys each "
        f"({held.file_mb:.1f} MB of files) mapped by one fresh process",
        f"  resident at start (interpreter, numpy, module): {held.start_mb:.0f} MB "
        f"(anonymous {held.start_anon_mb:.0f} MB, file-backed {held.start_file_mb:.0f} MB)",
        f"  resident after mapping all {held.peers}: {held.mapped_mb:.0f} MB",
        f"  after {held.lookups:,} lookups ({held.hits} hits, "
        f"{held.lookups / held.seconds / 1e6:.1f} M/s): anonymous {held.after_anon_mb:.0f} MB, "
        f"file-backed {held.after_file_mb:.0f} MB, of which the filters' pages "
        f"{held.after_file_mb - held.start_file_mb:.0f} MB (page cache: shared, reclaimable)",
        f"  peak resident (ru_maxrss): {held.peak_mb:.0f} MB, including the lookups' "
        "temporary arrays of 100,000 values",
    ]


def _target(text: str, met: bool) -> str:
    return f"  [{'met' if met else 'NOT MET'}] {text}"


def _emit(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keys",
        default=",".join(str(k) for k in DEFAULT_KEYS),
        help="filter sizes, comma-separated",
    )
    parser.add_argument("--lookups", type=int, default=DEFAULT_LOOKUPS, help="non-member lookups")
    parser.add_argument("--peers", type=int, default=8, help="peers' filters mapped at once")
    parser.add_argument("--peer-keys", type=int, default=1_000_000, help="keys in each")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.keys.replace("_", "").split(",") if size]
    OUT.mkdir(parents=True, exist_ok=True)
    run(sizes, args.lookups, args.peers, args.peer_keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
