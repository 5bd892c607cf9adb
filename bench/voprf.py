"""VOPRF throughput: the holder's evaluations per second against bare rbcl scalar multiplications.

Run: .venv/bin/python -m bench.voprf [--inputs 49152] [--repeats 10] [--batches 200]

An index build evaluates every match key the node holds (node.federation.voprf, RFC 9497 mode
0x01), so its pace is set by one ristretto255 scalar multiplication a key plus hashing. This
benchmark measures, in one run:

- **bare**: rbcl.crypto_scalarmult_ristretto255 of one scalar and precomputed random points, in a
  plain loop on one core, and in a process pool of one worker a CPU, in chunks of 4,096 points
  (each worker returns only a count, so the bare rate carries no result traffic);
- **evaluate**: evaluate_many on one core, and evaluate_parallel on the same pool with the same
  chunk size, over match-key-like inputs ("v2|nhs_dob|<NHS number>|<date>", 32 bytes); the
  outputs (64 bytes each) come back to the parent and are counted;
- **the ratio** of the pooled evaluate rate to the pooled bare rate: the target is at least 0.7.
  The four runs are repeated `--repeats` times, in turn forwards and backwards so that a drift in
  the machine's other load falls on both; the headline ratio is of the best rates (the runs least
  disturbed, as timeit takes the best), printed with the median of the repeats' ratios and each
  repeat's. Runs are short (a pooled run is 12 chunks, about two seconds) and many, so that on a
  shared machine each kind of run is likely to find a quiet moment;
- **one check's cost**: the asker's blind and finalize (verifying the batched proof) and the
  holder's blind_evaluate with its proof, for a batch of 12 match keys (a subject's keys, at
  most), median and 95th percentile over `--batches` batches.

The pool is started and warmed before any clock starts; its start-up is not measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import rbcl

from bench.import_throughput import format_table, machine_lines
from node.federation import voprf
from node.federation.voprf import Mode

CHUNK = 4096
BATCH = 12
TARGET_RATIO = 0.7
ONE_CORE_SHARE = 4  # the one-core runs use a quarter of --inputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=12 * CHUNK, help="evaluations a pooled run")
    parser.add_argument("--repeats", type=int, default=10, help="rounds of the four runs")
    parser.add_argument("--batches", type=int, default=200, help="batches of 12 to time")
    args = parser.parse_args(argv)
    if args.inputs < CHUNK or args.repeats < 1 or args.batches < 1:
        parser.error(f"--inputs must be at least {CHUNK}; --repeats and --batches at least 1")
    print("\n".join(machine_lines()), flush=True)
    run(args.inputs, args.repeats, args.batches)
    return 0


def run(count: int, repeats: int, batches: int) -> None:
    sk, pk = voprf.derive_key_pair(os.urandom(32), b"bench", Mode.VOPRF)
    inputs = match_keys(count)
    points = [rbcl.crypto_core_ristretto255_random() for _ in range(count)]
    workers = os.cpu_count() or 1
    one_core = count // ONE_CORE_SHARE
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_bare, [sk] * workers, [points[:1]] * workers))  # start every worker
        measures: dict[str, Callable[[], object]] = {
            "bare scalar mult, 1 core": lambda: _bare(sk, points[:one_core]),
            "evaluate_many, 1 core": lambda: voprf.evaluate_many(sk, inputs[:one_core], Mode.VOPRF),
            f"bare scalar mult, {workers} cores": lambda: _bare_pooled(pool, sk, points),
            f"evaluate_parallel, {workers} cores": lambda: _evaluate_pooled(pool, sk, inputs),
        }
        sizes = [one_core, one_core, count, count]
        rates: dict[str, list[float]] = {name: [] for name in measures}
        for repeat in range(repeats):
            order = list(zip(measures.items(), sizes, strict=True))
            for (name, work), size in order if repeat % 2 == 0 else reversed(order):
                rates[name].append(_rate(size, work))
            bare, evaluated = list(rates.values())[2:]
            print(
                f"  repeat {repeat + 1}: on {workers} cores bare {bare[-1]:,.0f}/s, "
                f"evaluate {evaluated[-1]:,.0f}/s, ratio {evaluated[-1] / bare[-1]:.3f}",
                flush=True,
            )
    print()
    print(
        format_table(
            ["per second", "best", "median", "lowest"],
            [
                (name, round(max(r)), round(statistics.median(r)), round(min(r)))
                for name, r in rates.items()
            ],
        )
    )
    bare_1, eval_1, bare_n, eval_n = rates.values()
    ratio = max(eval_n) / max(bare_n)
    ratios = [e / b for e, b in zip(eval_n, bare_n, strict=True)]
    print(
        f"\nevaluate / bare on {workers} cores: {ratio:.3f} of the best rates, "
        f"{statistics.median(ratios):.3f} the median of the repeats' "
        f"(each: {', '.join(f'{r:.3f}' for r in ratios)}); "
        f"target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    print(f"evaluate / bare on 1 core: {max(eval_1) / max(bare_1):.3f} of the best rates")
    print(f"load at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print()
    print(
        format_table(
            ["one check, batch of 12 (mode 1)", "median ms", "p95 ms"], check_costs(sk, pk, batches)
        )
    )


def check_costs(sk: bytes, pk: bytes, batches: int) -> list[tuple[str, str, str]]:
    """The asker's and the holder's time for one batch of 12 match keys, with the proof."""
    keys = match_keys(BATCH * batches)
    blind_ms, evaluate_ms, finalize_ms, client_ms = [], [], [], []
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        started = time.perf_counter()
        blinded = voprf.blind(batch, Mode.VOPRF)
        blinded_at = time.perf_counter()
        evaluation = voprf.blind_evaluate(sk, blinded.blinded_elements, Mode.VOPRF, pk=pk)
        evaluated_at = time.perf_counter()
        outputs = voprf.finalize(blinded, evaluation, pk=pk)
        finished = time.perf_counter()
        assert len(outputs) == BATCH
        blind_ms.append((blinded_at - started) * 1000)
        evaluate_ms.append((evaluated_at - blinded_at) * 1000)
        finalize_ms.append((finished - evaluated_at) * 1000)
        client_ms.append(blind_ms[-1] + finalize_ms[-1])
    return [
        (name, f"{statistics.median(times):.2f}", f"{_p95(times):.2f}")
        for name, times in (
            ("asker: blind", blind_ms),
            ("asker: finalize (verifies the proof)", finalize_ms),
            ("asker: blind + finalize", client_ms),
            ("holder: blind_evaluate with proof", evaluate_ms),
        )
    ]


def match_keys(count: int) -> list[bytes]:
    """Inputs shaped like the key set's material: "v2|nhs_dob|<NHS number>|<date of birth>"."""
    keys = []
    for i in range(count):
        nhs_number = 4_000_000_000 + 7_919 * i
        born = f"{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        keys.append(f"v2|nhs_dob|{nhs_number}|{born}".encode())
    return keys


def _rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def _bare(sk: bytes, points: Sequence[bytes]) -> int:
    multiply = rbcl.crypto_scalarmult_ristretto255
    for point in points:
        multiply(sk, point)
    return len(points)


def _bare_pooled(pool: ProcessPoolExecutor, sk: bytes, points: list[bytes]) -> int:
    chunks = [points[i : i + CHUNK] for i in range(0, len(points), CHUNK)]
    return sum(pool.map(_bare, [sk] * len(chunks), chunks))


def _evaluate_pooled(pool: ProcessPoolExecutor, sk: bytes, inputs: list[bytes]) -> int:
    outputs = voprf.evaluate_parallel(sk, inputs, Mode.VOPRF, chunk_size=CHUNK, executor=pool)
    return sum(1 for _ in outputs)


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
