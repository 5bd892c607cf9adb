"""`python -m node.web.serve --workers 2`: two processes answer on one socket and stop together."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.web.conftest import WebNode

START_TIMEOUT_S = 60


def _children(pid: int) -> list[int]:
    return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_workers_share_the_socket_and_stop_on_one_signal(web_node: WebNode) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "node.web.serve"),
            *("--config", str(web_node.directory / "node.toml")),
            *("--host", "127.0.0.1", "--port", "0", "--workers", "2"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("Listening on http://127.0.0.1:"), line
        base_url = line.removeprefix("Listening on ").strip()
        workers = _children(process.pid)
        assert len(workers) == 1  # this process serves too
        for _ in range(30):  # each a new connection, handed to either process
            with urllib.request.urlopen(base_url + "/sign-in", timeout=30) as response:
                assert response.status == 200
                assert response.headers["Cache-Control"] == "no-store"
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert not Path(f"/proc/{workers[0]}").exists(), "the second worker outlived the first"


def test_a_signal_before_the_workers_are_ready_still_stops_them_all(web_node: WebNode) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "node.web.serve"),
            *("--config", str(web_node.directory / "node.toml")),
            *("--host", "127.0.0.1", "--port", "0", "--workers", "2"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    assert ready and process.stdout.readline().startswith("Listening on ")
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)  # the apps are most likely still being built
    _, errors = process.communicate(timeout=30)  # EOF: no worker still holds the pipes
    assert process.returncode == 0, errors
    assert workers and not Path(f"/proc/{workers[0]}").exists()
