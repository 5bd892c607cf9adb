"""`serve_federation`: the node's federation gRPC server (mutual TLS with the federation CA),
serving NodeInfo and whatever services the caller adds (existence checks, disclosures)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import grpc

from mash_common.server import Service, run_server
from mash_common.tls import TlsIdentity, server_credentials
from node.config import ConfigError
from node.federation.info import NodeInfoServicer
from node.keys import KeyFileError, load_tls
from node.runtime import Node
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc

NODE_INFO = node_pb2.DESCRIPTOR.services_by_name["NodeInfo"]


def node_services(node: Node) -> list[Service]:
    """The services every node serves."""
    return [
        Service.of(NODE_INFO, NodeInfoServicer(node), node_pb2_grpc.add_NodeInfoServicer_to_server)
    ]


@contextmanager
def serve_federation(
    node: Node,
    *,
    host: str | None = None,
    port: int | None = None,
    tls: TlsIdentity | None = None,
    services: Sequence[Service] = (),
    interceptors: Sequence[grpc.ServerInterceptor] = (),
) -> Iterator[int]:
    """Serve the node's federation services until the block ends, yielding the bound port.
    `host` and `port` default to the config's [federation] section (port 0: an ephemeral one);
    `tls` to the keys dir's files, whose certificate must be this node's borough's."""
    settings = node.config.federation
    if host is None or port is None:
        if settings is None:
            raise ConfigError(
                f"{node.config.path}: no [federation] section; set federation.host and "
                "federation.port to serve the federation"
            )
        host = settings.host if host is None else host
        port = settings.port if port is None else port
    tls = tls or load_tls(node.config.keys_dir)
    if tls.borough != node.config.borough_code:
        raise KeyFileError(
            f"the TLS certificate is for {tls.borough!r}, but this node is "
            f"{node.config.borough_code!r} (node.borough_code)"
        )
    with run_server(
        [*node_services(node), *services],
        host=host,
        port=port,
        credentials=server_credentials(tls),
        interceptors=interceptors,
    ) as bound:
        yield bound
