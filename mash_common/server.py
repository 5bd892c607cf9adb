"""`run_server`: a federation gRPC server over mutual TLS, with health checking (per service) and
server reflection, as a context manager that yields the bound port (port 0: an ephemeral one).

Every call passes mash_common/interceptors.py's interceptors: errors become status codes, and a
peer without a verified borough certificate is refused. That holds for health and reflection
too: with `server_credentials` no one without a federation certificate gets past the handshake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mash_common.interceptors import ErrorStatuses, PeerBoroughRequired

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class ServerStartError(Exception):
    """The server could not listen where it was asked to."""

    code = "unavailable"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Service:
    """One gRPC service to serve: its full name (for health and reflection) and how to add
    its servicer to a server."""

    name: str
    add: Callable[[grpc.Server], None]

    @classmethod
    def of(
        cls,
        descriptor: ServiceDescriptor,
        servicer: Any,
        add_to_server: Callable[[Any, grpc.Server], None],
    ) -> Service:
        """E.g. `Service.of(node_pb2.DESCRIPTOR.services_by_name["NodeInfo"], servicer,
        node_pb2_grpc.add_NodeInfoServicer_to_server)`."""
        return cls(descriptor.full_name, lambda server: add_to_server(servicer, server))


@contextmanager
def run_server(
    services: Sequence[Service],
    *,
    host: str,
    port: int,
    credentials: grpc.ServerCredentials | None,
    peer_borough_required: bool = True,
    health_servicer: health.HealthServicer | None = None,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    max_workers: int = 8,
    grace_seconds: float = 2.0,
) -> Iterator[int]:
    """Serve `services` on host:port until the block ends, yielding the bound port. Each service
    is SERVING in health checks while the server runs (pass `health_servicer` to change a
    service's status later); on exit every status turns NOT_SERVING, calls in flight get
    `grace_seconds` to finish, and the server stops. `interceptors` run inside the standard ones
    (an audit interceptor, say).

    `credentials=None` with `peer_borough_required=False` serves without TLS: only for the
    coordinator's enrolment port, whose messages are public material authenticated by the
    one-time token (mash_common/enrolment.py); every other server requires a federation
    certificate naming a borough."""
    if credentials is None and peer_borough_required:
        raise ValueError("a server without TLS cannot require a peer's borough certificate")
    if not services:
        raise ValueError("run_server needs at least one service")
    health_servicer = health_servicer or health.HealthServicer()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc-federation"),
        interceptors=[
            ErrorStatuses(),
            *([PeerBoroughRequired()] if peer_borough_required else []),
            *interceptors,
        ],
        options=[
            ("grpc.so_reuseport", 0),  # a taken port is an error, not a shared one
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    try:
        for service in services:
            service.add(server)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        names = [service.name for service in services]
        reflection.enable_server_reflection(
            [*names, HEALTH_SERVICE, reflection.SERVICE_NAME], server
        )
        bound = _listen(server, host, port, credentials)
        server.start()
        for name in ("", *names):  # "": the server as a whole
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        yield bound
    finally:
        health_servicer.enter_graceful_shutdown()
        server.stop(grace_seconds).wait()


def _listen(
    server: grpc.Server, host: str, port: int, credentials: grpc.ServerCredentials | None
) -> int:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        if credentials is None:
            bound = server.add_insecure_port(address)
        else:
            bound = server.add_secure_port(address, credentials)
    except RuntimeError as exc:
        raise ServerStartError(f"cannot listen on {address}: {exc}") from None
    if bound == 0:
        raise ServerStartError(f"cannot listen on {address}: the address is taken or invalid")
    return bound
