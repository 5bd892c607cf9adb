"""The NodeInfo service: this node's public identity (borough, verify key, box key, OPRF public
key and epoch, match-key set, release), which peers compare with the federation directory."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import grpc

from node.matching.keys import KEY_SET_VERSION
from node.runtime import Node
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc


def software_version() -> str:
    """The mash-federation release this process runs."""
    try:
        return version("mash-federation")
    except PackageNotFoundError:
        return "unknown"


def node_identity(node: Node) -> node_pb2.NodeIdentity:
    """The node's public identity, as NodeInfo.GetNodeInfo answers it."""
    keys = node.keys
    return node_pb2.NodeIdentity(
        borough=node.config.borough_code,
        borough_name=node.config.borough_name,
        verify_key=bytes(keys.verify_key),
        key_id=keys.signing_key_id,
        box_public_key=keys.box_public_key,
        oprf_public_key=keys.oprf_public_key,
        oprf_epoch=keys.oprf_epoch,
        key_set_version=KEY_SET_VERSION,
        software_version=software_version(),
    )


class NodeInfoServicer(node_pb2_grpc.NodeInfoServicer):
    """Answers GetNodeInfo from the opened node's configuration and keys; reads no store."""

    def __init__(self, node: Node) -> None:
        self._identity = node_identity(node)

    def GetNodeInfo(
        self, request: node_pb2.GetNodeInfoRequest, context: grpc.ServicerContext
    ) -> node_pb2.NodeIdentity:
        return self._identity
