"""Real processes for the federation tests: a coordinator (`mash-coordinator serve`) and a hub
node's CLI (`mash-node report`), each started with its own config and stopped, also on failure."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mash_common.client import coordinator_channel
from mash_common.tls import TlsIdentity
from tests.mtls import wait_serving

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningCoordinator:
    web_url: str
    grpc_port: int
    process: subprocess.Popen[str]
    enrol_port: int = 0


@contextmanager
def coordinator_process(directory: Path, *, grpc_port: int = 0) -> Iterator[RunningCoordinator]:
    """`mash-coordinator serve` for the coordinator in `directory`, until the block ends; yields
    once its gRPC server answers health checks over mutual TLS."""
    log = (directory / "serve.log").open("a")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coordinator.cli",
            "--config",
            str(directory / "coordinator.toml"),
            "serve",
            "--port",
            "0",
            "--grpc-port",
            str(grpc_port),
            "--enrol-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        web = _line(process, "Listening on http://")
        grpc = _line(process, "gRPC on ")
        enrol = _line(process, "Enrolment on ")
        running = RunningCoordinator(
            web.removeprefix("Listening on ").strip(),
            int(grpc.rsplit(":", 1)[1]),
            process,
            int(enrol.rsplit(":", 1)[1]),
        )
        yield running
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _line(process: subprocess.Popen[str], prefix: str) -> str:
    """The next line the process prints, which must start with `prefix` (read in a thread, so
    a line already buffered is not missed and a silent process does not hang the test)."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
    try:
        line = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        raise AssertionError(f"the coordinator printed nothing in {START_TIMEOUT} s") from None
    if not line.startswith(prefix):
        raise AssertionError(f"expected {prefix!r}, got {line!r} (exit {process.poll()})")
    return line


def wait_healthy(port: int, identity: TlsIdentity) -> None:
    channel = coordinator_channel(f"127.0.0.1:{port}", identity, default_timeout=10)
    try:
        wait_serving(channel, "mash.coordinator.v1.Evaluation")
    finally:
        channel.close()


def coordinator_cli(
    directory: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`mash-coordinator --config DIRECTORY/coordinator.toml ARGS...` in a process of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "coordinator.cli",
            "--config",
            str(directory / "coordinator.toml"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def node_cli(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`mash-node --config CONFIG ARGS...` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
