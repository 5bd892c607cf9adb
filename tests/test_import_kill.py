"""An import killed with SIGKILL leaves nothing behind: no process, no partial data, an intact log.

A real `mash-node import` of a file large enough to be prepared in a worker process is killed
mid-way; its worker and the multiprocessing resource tracker must end within 2 s, the store must
hold nothing of it, and `mash-node audit verify` must pass (`bench.import_kill` does this 20
times; bench/RESULTS.md has the figures).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.import_kill import (
    alive,
    children,
    fresh_node,
    imported,
    kill_and_watch,
    run_cli,
    start_import,
    wait_for_worker,
    write_persons,
)
from node.importing.prepare import WORKER_MIN_BYTES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_killed_import_leaves_no_process_no_data_and_an_intact_log(tmp_path: Path) -> None:
    config = fresh_node(tmp_path / "node")
    people = tmp_path / "people.csv"
    write_persons(people, 70_000)
    assert people.stat().st_size > WORKER_MIN_BYTES  # prepared in a worker process

    process = start_import(config, people)
    assert wait_for_worker(process), "the import ended before its worker started"
    time.sleep(0.5)  # mid-way: the whole import takes several seconds
    processes, ended_s, left = kill_and_watch(process)

    assert processes >= 2  # the prepare worker and the resource tracker
    assert left == () and ended_s is not None and ended_s <= 2.0
    assert imported(config) == (0, 0)
    verify = run_cli(config, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "Audit log intact" in verify.stdout


@pytest.mark.parametrize("kernel", [True, False], ids=["prctl", "watching thread"])
def test_a_worker_ends_with_its_parent_however_the_parent_ends(
    tmp_path: Path, kernel: bool
) -> None:
    """`end_with_parent`, with Linux's parent-death signal and with the portable watch."""
    child = textwrap.dedent(
        f"""
        import os, time
        from node.importing import prepare
        if not {kernel}:
            prepare._kill_me_with_my_parent = lambda: False
        prepare.end_with_parent(os.getppid())
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    parent = textwrap.dedent(
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", {child!r}], stdout=subprocess.PIPE)
        child.stdout.readline()
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE)
    assert process.stdout is not None
    worker = int(process.stdout.readline())
    assert children(process.pid) == [worker]

    process.kill()
    process.wait()
    deadline = time.monotonic() + 2.0
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.01)

    assert not alive(worker)
