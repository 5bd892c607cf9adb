"""The node's part in the federation while it serves: the gRPC server for peers' checks,
filter fetches and disclosures, the upkeep of its index and of peers' filters, and the courier
that delivers disclosure messages (`mash-node serve`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from node.config import NodeConfig
from node.federation.runtime import Federation, Upkeep
from node.federation.server import serve_federation
from node.runtime import Node


@contextmanager
def serving_federation(config: NodeConfig) -> Iterator[int]:
    """Serve the federation for `config` until the block ends; yields the bound gRPC port and
    says where it listens on standard error (standard output's first line is the web UI's)."""
    with Node.open(config) as node:
        federation = Federation.open(node)
        try:
            with serve_federation(
                node, services=federation.services(), interceptors=federation.interceptors()
            ) as port:
                upkeep = Upkeep(federation).start()
                federation.courier.start()
                settings = config.federation
                assert settings is not None  # Federation.open refused a node without one
                print(f"Federation gRPC on {settings.host}:{port}", file=sys.stderr, flush=True)
                if federation.uses_directory:
                    print(
                        "Peers from the coordinator's directory"
                        + (f" (warning: {w})" if (w := federation.directory_warning()) else ""),
                        file=sys.stderr,
                        flush=True,
                    )
                try:
                    yield port
                finally:
                    upkeep.stop()
        finally:
            federation.close()
