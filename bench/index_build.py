"""Building the published index: match keys evaluated a second on every core, against bare rbcl
scalar multiplications on every core measured in the same run.

    .venv/bin/python -m bench.index_build [--keys 1000000] [--workers 2]

A store holding `--keys` match keys (random values, as an import would leave them) has its index
built from nothing by `node.federation.index.refresh`, as `mash-node import` and the server's
upkeep do: every key evaluated (RFC 9497 Evaluate: hash to the group, one scalar multiplication,
SHA-512) in worker processes, the PRFs written to the store in batches, and the filter built and
written. The baseline is the one scalar multiplication each key needs, with nothing else, in the
same number of processes. The target is a ratio of at least 0.7.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import rbcl
from sqlalchemy import func, insert, select

from bench.import_throughput import OUT, format_table, machine_lines
from node.federation import index
from node.federation.local import make_local_federation
from node.match_key_set import note_current
from node.runtime import Node
from node.store.models import MatchKey, OprfIndexEntry

DIRECTORY = OUT / "index-build"
CHUNK = 4_096


def _store(keys: int) -> Node:
    shutil.rmtree(DIRECTORY, ignore_errors=True)
    [local] = make_local_federation(
        DIRECTORY,
        [("hackney", "Hackney")],
        agencies=["police"],
        web_ports=[0],
        federation_ports=[0],
    )
    node = Node.initialise(local.config_path)
    rng = np.random.default_rng(3)
    with node.unit_of_work() as session:
        note_current(session)
    for start in range(0, keys, 200_000):
        count = min(200_000, keys - start)
        values = rng.bytes(16 * count)
        with node.unit_of_work() as session:
            session.execute(
                insert(MatchKey),
                [
                    {"key_value": values[i * 16 : i * 16 + 16], "record_id": start + i + 1}
                    for i in range(count)
                ],
            )
    return node


def _bare(sk: bytes, point: bytes, count: int) -> int:
    multiply = rbcl.crypto_scalarmult_ristretto255
    for _ in range(count):
        multiply(sk, point)
    return count


def bare_rate(keys: int, workers: int) -> float:
    """Scalar multiplications a second in `workers` processes, nothing else."""
    sk = rbcl.crypto_core_ristretto255_scalar_random()
    point = rbcl.crypto_scalarmult_ristretto255_base(rbcl.crypto_core_ristretto255_scalar_random())
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        list(pool.map(_bare, [sk] * workers, [point] * workers, [100] * workers))  # warm up
        chunks = [CHUNK] * (keys // CHUNK) + ([keys % CHUNK] if keys % CHUNK else [])
        started = time.perf_counter()
        done = sum(pool.map(_bare, [sk] * len(chunks), [point] * len(chunks), chunks))
        return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.index_build", description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()))
    print(f"Building a store of {args.keys:,} match keys ...", flush=True)
    node = _store(args.keys)
    try:
        baseline_before = bare_rate(min(args.keys, 200_000), args.workers)
        started = time.perf_counter()
        refreshed = index.refresh(node, workers=args.workers)
        seconds = time.perf_counter() - started
        baseline_after = bare_rate(min(args.keys, 200_000), args.workers)
        with node.reading() as session:
            held = session.scalar(select(func.count()).select_from(OprfIndexEntry))
    finally:
        node.close()
    if held != args.keys or refreshed.evaluated != args.keys:
        raise SystemExit(f"the index holds {held:,} keys, not {args.keys:,}")
    rate = args.keys / seconds
    baseline = max(baseline_before, baseline_after)
    print(
        f"\nIndex built from nothing: {args.keys:,} keys in {seconds:.1f} s, "
        f"snapshot {refreshed.snapshot.size if refreshed.snapshot else 0:,} keys"
    )
    print(
        format_table(
            ("", "per second", "ratio"),
            [
                (f"index refresh ({args.workers} workers)", round(rate), f"{rate / baseline:.3f}"),
                (
                    f"bare scalar multiplications ({args.workers} processes), best of two",
                    round(baseline),
                    1.0,
                ),
            ],
        )
    )
    print("Target: a ratio of at least 0.7.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
