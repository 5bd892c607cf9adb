"""The benchmarks that drive the node's own code end to end still run on it: each is run here at a
tiny size (its figures mean nothing at this size; bench/RESULTS.md has the real ones), so that a
change to the code they call is caught by the suite rather than at the next measurement."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "arguments", "expected"),
    [
        (
            "check_latency",
            ["--peers", "1", "--scan", "1", "--keys", "2000", "--checks", "4"],
            "floor",
        ),
        ("index_build", ["--keys", "2000", "--workers", "2"], "bare scalar multiplications"),
    ],
)
def test_a_benchmark_runs_on_the_current_code(
    module: str, arguments: list[str], expected: str
) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-4000:]
    assert expected in finished.stdout
