"""Serve the coordinator: its web UI (waitress) and its gRPC Evaluation service, in one process,
until SIGTERM or SIGINT.

Prints "Listening on http://HOST:PORT", "gRPC on HOST:PORT" and "Enrolment on HOST:PORT" once
all are bound (port 0
picks a free port and the lines say which), then serves. The store is opened once and shared.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from waitress import create_server
from waitress.server import BaseWSGIServer

from coordinator.config import CoordinatorConfig
from coordinator.federation.server import serve_enrolment, serve_grpc
from coordinator.runtime import Coordinator
from coordinator.web import create_app
from mash_common.heap import freeze_what_started

THREADS = 8
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run(
    config: CoordinatorConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    grpc_host: str | None = None,
    grpc_port: int | None = None,
    enrol_port: int | None = None,
) -> None:
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        raise SystemExit(0)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        with (
            Coordinator.open(config) as coordinator,
            serve_grpc(coordinator, host=grpc_host, port=grpc_port) as bound_grpc,
            serve_enrolment(
                coordinator,
                coordinator_address=config.grpc.advertised(bound_grpc),
                host=grpc_host,
                port=enrol_port,
            ) as bound_enrol,
        ):
            app = create_app(config, coordinator=coordinator)
            server = create_server(
                app,
                host=host or config.web.host,
                port=config.web.port if port is None else port,
                threads=THREADS,
                ident="",
                clear_untrusted_proxy_headers=True,
            )
            if not isinstance(server, BaseWSGIServer):
                raise RuntimeError("expected waitress to listen on one socket")
            web_host, web_port = server.socket.getsockname()[:2]
            print(f"Listening on http://{web_host}:{web_port}", flush=True)
            print(f"gRPC on {grpc_host or config.grpc.host}:{bound_grpc}", flush=True)
            print(f"Enrolment on {grpc_host or config.grpc.host}:{bound_enrol}", flush=True)
            try:
                if not stopping.is_set():
                    freeze_what_started()
                    server.run()
            except SystemExit:
                pass
            finally:
                server.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
