"""Server interceptors every federation server runs (mash_common/server.py), outermost first:

- `ErrorStatuses`: an error with a known `code` (mash_common/status.py) becomes its status, with
  the error's message and the code in trailing metadata; a request that does not decode becomes
  INVALID_ARGUMENT; anything else becomes INTERNAL with a generic message, logged with its type
  and traceback but never its message (which might quote a payload). No traceback reaches a peer.
- `PeerBoroughRequired`: a call whose peer has no verified certificate naming a borough is
  refused with UNAUTHENTICATED before any servicer runs.

gRPC's server interceptors see no ServicerContext, so each wraps the method handler's behaviour
(the pattern of grpc's own examples); the four kinds of handler are rebuilt alike.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from mash_common.pki import borough_of_peer
from mash_common.status import ERROR_CODE_KEY, ERROR_FIELD_KEY, status_of

logger = logging.getLogger(__name__)

Behaviour = Callable[[Any, grpc.ServicerContext], Any]
_KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
_FACTORIES = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}
INTERNAL_MESSAGE = "internal error; the server's log has the details"


class _Undecodable:
    """Stands for a request message that did not decode, so the behaviour can refuse it."""


_UNDECODABLE = _Undecodable()


class ErrorStatuses(grpc.ServerInterceptor):
    """Maps whatever a servicer raises to a status code with a clear message."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        kind = _kind(handler)
        behaviour = getattr(handler, kind)
        deserializer = handler.request_deserializer
        if handler.response_streaming:
            wrapped = _mapping_stream(behaviour, method, handler.request_streaming)
        else:
            wrapped = _mapping_unary(behaviour, method, handler.request_streaming)
        return _FACTORIES[kind](
            wrapped,
            request_deserializer=_tolerant(deserializer) if deserializer else None,
            response_serializer=handler.response_serializer,
        )


class PeerBoroughRequired(grpc.ServerInterceptor):
    """Refuses (UNAUTHENTICATED) any call whose peer's certificate names no borough."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        return _checked_first(continuation(handler_call_details), borough_of_peer)


def _checked_first(
    handler: grpc.RpcMethodHandler | None, check: Callable[[grpc.ServicerContext], object]
) -> grpc.RpcMethodHandler | None:
    """`handler` with `check(context)` run before its behaviour (a check refuses by raising)."""
    if handler is None:
        return None
    kind = _kind(handler)
    behaviour = getattr(handler, kind)

    def checked(request: Any, context: grpc.ServicerContext) -> Any:
        check(context)
        return behaviour(request, context)

    return _FACTORIES[kind](
        checked,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _kind(handler: grpc.RpcMethodHandler) -> str:
    for kind in _KINDS:
        if getattr(handler, kind) is not None:
            return kind
    raise ValueError("a method handler with no behaviour")


def _tolerant(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return _UNDECODABLE

    return deserialize


def _decoded(request: Any, method: str, streaming: bool) -> Any:
    if streaming:
        return _decoded_stream(request, method)
    if request is _UNDECODABLE:
        raise _RequestUndecodable(method)
    return request


def _decoded_stream(requests: Iterator[Any], method: str) -> Iterator[Any]:
    for request in requests:
        if request is _UNDECODABLE:
            raise _RequestUndecodable(method)
        yield request


class _RequestUndecodable(Exception):
    code = "invalid"

    def __init__(self, method: str) -> None:
        self.message = f"the request is not a valid message for {method}"
        super().__init__(self.message)


def _mapping_unary(behaviour: Behaviour, method: str, request_streaming: bool) -> Behaviour:
    def mapped(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behaviour(_decoded(request, method, request_streaming), context)
        except Exception as exc:
            _abort(exc, context, method)

    return mapped


def _mapping_stream(behaviour: Behaviour, method: str, request_streaming: bool) -> Behaviour:
    def mapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behaviour(_decoded(request, method, request_streaming), context)
        except Exception as exc:
            _abort(exc, context, method)

    return mapped


def _abort(exc: Exception, context: grpc.ServicerContext, method: str) -> None:
    """End the call with the status `exc` stands for; always raises."""
    if type(exc) is Exception and context.code() not in (None, grpc.StatusCode.OK):
        raise exc  # the servicer called context.abort itself: its status stands
    code = getattr(exc, "code", None)
    status = status_of(code)
    if status is None:
        logger.error(
            "%s failed: unexpected %s\n%s",
            method,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)
    metadata = [(ERROR_CODE_KEY, str(code))]
    field = getattr(exc, "field", None)
    if isinstance(field, str) and field.isascii() and field.isprintable():
        metadata.append((ERROR_FIELD_KEY, field))
    context.set_trailing_metadata(tuple(metadata))
    message = getattr(exc, "message", None)
    context.abort(status, message if isinstance(message, str) and message else str(exc))


class PeerAdmitted(grpc.ServerInterceptor):
    """Refuses any call whose peer `admit(borough, certificate_pem)` refuses (it raises
    mash_common.errors.Refused): a node using the federation directory admits only the nodes it
    lists, not revoked, each with the certificate it lists. Runs inside PeerBoroughRequired."""

    def __init__(self, admit: Callable[[str, bytes], None]) -> None:
        self._admit = admit

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        admit = self._admit

        def admitted(context: grpc.ServicerContext) -> None:
            borough = borough_of_peer(context)
            pems = context.auth_context().get("x509_pem_cert") or [b""]
            admit(borough, pems[0])

        return _checked_first(continuation(handler_call_details), admitted)
