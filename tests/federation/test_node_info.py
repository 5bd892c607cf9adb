"""A hub node's federation server for real: its certificate made from the node's own request,
NodeInfo answering its public identity over mutual TLS, health and reflection beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import rbcl
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mash_common import ca
from mash_common.envelope import key_id
from mash_common.pki import make_csr
from mash_common.tls import CA_FILE, CERT_FILE, KEY_FILE, TlsIdentity
from node.config import ConfigError, render_config
from node.federation.server import serve_federation
from node.keys import KeyFileError, load_tls
from node.matching.keys import KEY_SET_VERSION
from node.runtime import Node
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc
from tests.mtls import channel_to, wait_serving


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("federation") / "ca"
    ca.init_ca(directory)
    return directory


@pytest.fixture(scope="module")
def hackney(tmp_path_factory: pytest.TempPathFactory, ca_dir: Path) -> Iterator[Node]:
    """An initialised hub node with a [federation] section, certified as the integrator's CLI
    will do it: the node makes its key and request, the CA issues, the node installs."""
    directory = tmp_path_factory.mktemp("hackney")
    text = render_config("hackney", "Hackney", ["police"]) + "[federation]\nport = 0\n"
    (directory / "node.toml").write_text(text, encoding="utf-8")
    with Node.initialise(directory / "node.toml") as node:
        keys_dir = node.config.keys_dir
        csr = make_csr("hackney", keys_dir / KEY_FILE)
        (keys_dir / CERT_FILE).write_bytes(ca.issue(ca_dir, "hackney", csr))
        (keys_dir / CA_FILE).write_bytes(ca.ca_certificate(ca_dir))
        yield node


@pytest.fixture(scope="module")
def camden(tmp_path_factory: pytest.TempPathFactory, ca_dir: Path) -> TlsIdentity:
    directory = tmp_path_factory.mktemp("camden")
    ca.issue_with_key(ca_dir, "camden", directory)
    return TlsIdentity.from_dir(directory)


def test_node_info_answers_the_nodes_public_identity(hackney: Node, camden: TlsIdentity) -> None:
    with (
        serve_federation(hackney) as port,
        channel_to(port, "hackney", camden) as channel,
    ):
        wait_serving(channel, "mash.federation.v1.NodeInfo")
        identity = node_pb2_grpc.NodeInfoStub(channel).GetNodeInfo(node_pb2.GetNodeInfoRequest())
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    keys = hackney.keys
    assert (identity.borough, identity.borough_name) == ("hackney", "Hackney")
    assert identity.verify_key == bytes(keys.verify_key)
    assert identity.key_id == key_id(identity.verify_key)
    assert identity.box_public_key == bytes(keys.box.public_key)
    assert identity.oprf_public_key == rbcl.crypto_scalarmult_ristretto255_base(keys.oprf)
    assert rbcl.crypto_core_ristretto255_is_valid_point(identity.oprf_public_key)
    assert identity.oprf_epoch == 1
    assert identity.key_set_version == KEY_SET_VERSION
    assert identity.software_version == "0.1.0"
    assert "mash.federation.v1.NodeInfo" in services


def test_a_client_that_expects_another_borough_refuses_the_node(
    hackney: Node, camden: TlsIdentity
) -> None:
    with (
        serve_federation(hackney) as port,
        channel_to(port, "lambeth", camden) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        node_pb2_grpc.NodeInfoStub(channel).GetNodeInfo(node_pb2.GetNodeInfoRequest())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_serving_with_another_boroughs_certificate_is_refused(
    hackney: Node, camden: TlsIdentity
) -> None:
    with (
        pytest.raises(
            KeyFileError, match="the TLS certificate is for 'camden', but this node is 'hackney'"
        ),
        serve_federation(hackney, tls=camden),
    ):
        pass


def test_missing_tls_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"tls\.key: file missing.*coordinator issue"):
        load_tls(tmp_path)


def test_serving_without_a_federation_section_names_it(tmp_path: Path) -> None:
    (tmp_path / "node.toml").write_text(render_config("camden", "Camden", ["police"]))
    with (
        Node.initialise(tmp_path / "node.toml") as node,
        pytest.raises(ConfigError, match=r"no \[federation\] section"),
        serve_federation(node),
    ):
        pass
