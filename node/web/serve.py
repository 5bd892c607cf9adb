"""Serve the node's web UI with waitress until SIGTERM or SIGINT.

    python -m node.web.serve --config node.toml [--host 127.0.0.1] [--port 8080]

Prints exactly one line, "Listening on http://HOST:PORT", once the socket is bound (port 0 picks
a free port and the line says which).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from waitress import create_server
from waitress.server import BaseWSGIServer

from node.config import ConfigError, NodeConfig, load_config
from node.keys import KeyFileError
from node.web import CONFIG_ENVIRONMENT, create_app
from node.web.services import node_services

THREADS = 8


def run(config: NodeConfig, host: str | None = None, port: int | None = None) -> None:
    """Serve the web UI for `config` on host:port (default: its [web] settings) until stopped."""
    app = create_app(config)
    server = create_server(
        app,
        host=host or config.web.host,
        port=config.web.port if port is None else port,
        threads=THREADS,
        ident="",  # no Server header
        clear_untrusted_proxy_headers=True,
    )
    if not isinstance(server, BaseWSGIServer):  # one host and port give one socket
        raise RuntimeError("expected waitress to listen on one socket")
    bound_host = str(server.effective_host)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"Listening on http://{shown}:{server.effective_port}", flush=True)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()  # returns when _stop raises SystemExit inside its loop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
        node_services(app).engine.dispose()


def _stop(signum: int, _frame: FrameType | None) -> None:
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
    args = parser.parse_args(argv)
    try:
        run(load_config(args.config), host=args.host, port=args.port)
    except (ConfigError, KeyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
