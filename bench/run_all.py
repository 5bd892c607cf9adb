"""Run every benchmark in bench/ in sequence, each with its default settings.

Run: .venv/bin/python -m bench.run_all   (or `make bench`)

The benchmarks are import_throughput, search_latency, matching_quality, web_latency,
index_filter, voprf, audit_tampering, import_kill, coordinator_latency, check_latency,
index_build, concurrent_edits, disclosure_faults, disclosure_latency, import_fuzz and
partnership; each
module's `main(argv)` is called with no arguments. The exit status is the first non-zero one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time

BENCHMARKS = (
    "import_throughput",
    "search_latency",
    "matching_quality",
    "web_latency",
    "index_filter",
    "voprf",
    "audit_tampering",
    "import_kill",
    "coordinator_latency",
    "check_latency",
    "index_build",
    "concurrent_edits",
    "disclosure_faults",
    "disclosure_latency",
    "import_fuzz",
    "partnership",
)


def available() -> list[str]:
    """The benchmark modules present in bench/, in running order."""
    return [name for name in BENCHMARKS if importlib.util.find_spec(f"bench.{name}") is not None]


def main(argv: list[str] | None = None) -> int:
    if argv:
        raise SystemExit("bench.run_all takes no arguments; run a benchmark alone to pass options")
    status = 0
    for name in available():
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        result = importlib.import_module(f"bench.{name}").main([])
        print(f"=== bench.{name}: exit {result} after {time.perf_counter() - started:,.0f} s ===")
        status = status or result
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
