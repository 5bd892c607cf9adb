"""`client_channel`: a mutual-TLS channel to one borough's node (`coordinator_channel`: to the
coordinator), on which every call has a deadline.

The channel verifies the server's certificate against the federation CA and the name
`<borough>.mash-node` (`grpc.ssl_target_name_override`), so a client that expects hackney
refuses a server whose certificate is another borough's, whatever address it dialled. A call
made without `timeout=` gets the channel's default, so no call can wait forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc

from mash_common.pki import COORDINATOR_SERVER_NAME, server_name
from mash_common.tls import TlsIdentity, channel_credentials

DEFAULT_TIMEOUT_SECONDS = 10.0


class _Details(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, timeout: float) -> None:
        self.method = details.method
        self.timeout = timeout
        self.metadata = details.metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class DefaultDeadline(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Gives every call without a timeout the default one."""

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("a default deadline must be some seconds after the call starts")
        self.seconds = seconds

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        return details if details.timeout is not None else _Details(details, self.seconds)

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any
    ) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any
    ) -> Any:
        return continuation(self._details(details), requests)


def client_channel(
    target: str,
    borough_expected: str,
    identity: TlsIdentity,
    *,
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to `target` ("host:port") that only talks to `borough_expected`'s node,
    presenting `identity`'s certificate. Close it (or use it in a `with`) when done."""
    channel = grpc.secure_channel(
        target,
        channel_credentials(identity),
        options=[("grpc.ssl_target_name_override", server_name(borough_expected)), *options],
    )
    return grpc.intercept_channel(channel, DefaultDeadline(default_timeout))


def coordinator_channel(
    target: str,
    identity: TlsIdentity,
    *,
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to `target` ("host:port") that only talks to the coordinator (its server
    certificate must carry the reserved name `coordinator.mash-coordinator`, which no borough's
    does), presenting `identity`'s certificate."""
    channel = grpc.secure_channel(
        target,
        channel_credentials(identity),
        options=[("grpc.ssl_target_name_override", COORDINATOR_SERVER_NAME), *options],
    )
    return grpc.intercept_channel(channel, DefaultDeadline(default_timeout))


def wait_until_ready(channel: grpc.Channel, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Block until the channel is connected (TLS handshake done); raises
    grpc.FutureTimeoutError if it is not within `timeout` seconds."""
    grpc.channel_ready_future(channel).result(timeout=timeout)
