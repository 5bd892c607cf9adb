"""Serve the node's web UI with waitress until SIGTERM or SIGINT.

    python -m node.web.serve --config node.toml [--host 127.0.0.1] [--port 8080] [--workers 1]

Prints exactly one line, "Listening on http://HOST:PORT", once the socket is bound (port 0 picks
a free port and the line says which). With `--workers N` the listening socket is shared by N
processes (this one and N - 1 forked before anything else is opened), each with its own app,
store connections and waitress threads, so pages can use more than one core; the kernel hands
each connection to one of them. A signal to this process stops them all.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import FrameType

from waitress import create_server
from waitress.server import BaseWSGIServer

from mash_common.heap import freeze_what_started
from node.config import NodeConfig, load_config
from node.errors import DomainError, ErrorCode
from node.web import CONFIG_ENVIRONMENT, create_app
from node.web.services import current_node

THREADS = 8
BACKLOG = 1024
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_TIMEOUT_S = 10.0
_stopping = threading.Event()  # a stop signal arrived (its exception may have been swallowed)


def run(
    config: NodeConfig,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    *,
    alongside: Callable[[], AbstractContextManager[object]] | None = None,
) -> None:
    """Serve the web UI for `config` on host:port (default: its [web] settings) until stopped,
    in `workers` processes (default: web.workers). `alongside` is entered in this process once
    the workers are forked and left when serving stops: the federation's gRPC server, whose
    threads must not be forked."""
    workers = config.web.workers if workers is None else workers
    if workers < 1:
        raise ValueError("workers: at least 1")
    # Stop cleanly on a signal from the start, so that no worker is left behind serving.
    previous = {sig: signal.signal(sig, _stop) for sig in STOP_SIGNALS}
    children: list[int] = []
    try:
        listener = _listen(host or config.web.host, config.web.port if port is None else port)
        children = [_fork_worker(config, listener) for _ in range(workers - 1)]
        bound_host, bound_port = listener.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        with alongside() if alongside is not None else nullcontext():
            print(f"Listening on http://{shown}:{bound_port}", flush=True)
            _serve(config, listener)
    finally:
        _stop_children(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class PortUnavailable(DomainError):
    """The web UI cannot listen on the address and port asked for (in use, or not this host's)."""

    code = ErrorCode.UNAVAILABLE


def require_free_port(host: str, port: int) -> None:
    """Raise PortUnavailable now if the web UI could not listen on host:port."""
    _listen(host, port).close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        why = "it is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise PortUnavailable(
            f"cannot serve the web UI on {host}:{port}: {why}. Stop what uses it or choose "
            "another port (`make demo PORT=8091`, or `--port 8091`)"
        ) from None


def _fork_worker(config: NodeConfig, listener: socket.socket) -> int:
    """A child process serving `listener` until it is signalled; returns its pid."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        pid = os.fork()
        if not pid:
            # Until its server runs, a signal simply ends the worker: a stop exception raised
            # while the app is being built could be swallowed on the way.
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if pid:
        return pid
    code = 0
    try:
        _serve(config, listener)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the child must never return into the parent's code
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # leave without running the parent's exit handlers


def _stop_children(pids: list[int]) -> None:
    """Ask the workers to stop, all at once, and make those that have not within STOP_TIMEOUT_S."""
    running = set()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            running.add(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running and time.monotonic() < deadline:
        running -= {pid for pid in running if _ended(pid)}
        if running:
            time.sleep(0.05)
    for pid in running:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _ended(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) != (0, 0)
    except ChildProcessError:  # already waited for
        return True


def _serve(config: NodeConfig, listener: socket.socket) -> None:
    """One process's app and waitress threads on the shared socket, until a stop signal."""
    app = create_app(config)
    server = create_server(
        app,
        sockets=[listener],
        threads=THREADS,
        ident="",  # no Server header
        clear_untrusted_proxy_headers=True,
    )
    if not isinstance(server, BaseWSGIServer):  # one socket gives one server
        raise RuntimeError("expected waitress to listen on one socket")
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop)  # a worker's were reset when it was forked
    try:
        if _stopping.is_set():  # asked to stop while the app was being built
            return
        freeze_what_started()
        server.run()  # returns when _stop raises SystemExit inside its loop
    finally:
        server.close()
        current_node(app).engine.dispose()


def _stop(signum: int, _frame: FrameType | None) -> None:
    _stopping.set()
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m node.web.serve", description=__doc__)
    parser.add_argument(
        "--config",
        default=os.environ.get(CONFIG_ENVIRONMENT, "node.toml"),
        help=f"the node's configuration file (default: ${CONFIG_ENVIRONMENT} or ./node.toml)",
    )
    parser.add_argument("--host", help="address to listen on (default: web.host)")
    parser.add_argument("--port", type=int, help="port to listen on, 0 for any free one")
    parser.add_argument(
        "--workers",
        type=int,
        help="processes sharing the socket (default: web.workers, 1; about one per core)",
    )
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers: at least 1")
    try:
        run(load_config(args.config), host=args.host, port=args.port, workers=args.workers)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
