"""Enrolment for real: a coordinator process (`mash-coordinator serve`) and a node's CLI
(`mash-coordinator enrol-token`, `mash-node enrol`) in processes of their own on loopback.

A good token enrols the node (key and request made on the node, certificate from the federation
CA, directory key pinned, the node listed in the signed directory with its keys and endpoint);
the same token used again, an expired token, a token whose secret is forged, a token never
issued and another borough's token are each refused with a message saying which, and leave the
node without a certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from coordinator.config import load_config
from coordinator.nodes.tokens import issue_token
from coordinator.runtime import Coordinator
from mash_common.client import coordinator_channel
from mash_common.directory import open_directory
from mash_common.tls import CERT_FILE, TlsIdentity
from node.config import load_config as load_node_config
from node.config import render_config
from node.keys import load_enrolment, load_keys
from node.runtime import Node
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc
from tests.coordinator.conftest import build_coordinator
from tests.coordinator.processes import (
    RunningCoordinator,
    coordinator_cli,
    coordinator_process,
    free_port,
    node_cli,
)

pytestmark = pytest.mark.slow


def make_node(directory: Path, borough: str, name: str) -> Path:
    """An initialised node with a [federation] section and no certificate yet."""
    directory.mkdir(parents=True)
    config = directory / "node.toml"
    config.write_text(
        render_config(borough, name, ["police", "health"])
        + f'\n[federation]\nhost = "127.0.0.1"\nport = {free_port()}\n',
        encoding="utf-8",
    )
    Node.initialise(config).close()
    return config


def token_for(coordinator_dir: Path, borough: str) -> str:
    made = coordinator_cli(coordinator_dir, "enrol-token", "--borough", borough)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@pytest.fixture
def coordinator(tmp_path: Path) -> Iterator[tuple[Path, RunningCoordinator]]:
    directory = tmp_path / "coordinator"
    build_coordinator(directory, people=())
    with coordinator_process(directory) as running:
        yield directory, running


def enrol(config: Path, running: RunningCoordinator, token: str) -> tuple[int, str]:
    done = node_cli(
        config, "enrol", "--coordinator", f"127.0.0.1:{running.enrol_port}", "--token", token
    )
    return done.returncode, done.stdout + done.stderr


def test_a_good_token_enrols_the_node_and_the_signed_directory_lists_it(
    coordinator: tuple[Path, RunningCoordinator], tmp_path: Path
) -> None:
    coordinator_dir, running = coordinator
    config = make_node(tmp_path / "hackney", "hackney", "Hackney")
    keys_dir = config.parent / "data" / "keys"

    status, said = enrol(config, running, token_for(coordinator_dir, "hackney"))

    assert status == 0, said
    assert "Enrolled hackney's node" in said
    identity = TlsIdentity.from_dir(keys_dir)  # the certificate is the node's own key's
    assert identity.borough == "hackney"
    with Coordinator.open(coordinator_dir / "coordinator.toml") as opened:
        directory_key = opened.keys.directory_verify_key
    pinned = load_enrolment(keys_dir)
    assert pinned is not None and pinned.directory_key == directory_key
    node_config = load_node_config(config)  # [coordinator] written, and the config still valid
    assert node_config.coordinator is not None
    assert node_config.coordinator.address == f"127.0.0.1:{running.grpc_port}"

    channel = coordinator_channel(f"127.0.0.1:{running.grpc_port}", identity)
    try:
        signed = directory_pb2_grpc.DirectoryStub(channel).GetDirectory(
            directory_pb2.GetDirectoryRequest(), timeout=10
        )
    finally:
        channel.close()
    body = open_directory(signed, pinned.directory_key)
    keys = load_keys(keys_dir)
    (entry,) = body.nodes
    der = x509.load_pem_x509_certificate(identity.certificate).public_bytes(Encoding.DER)
    assert (entry.borough, entry.name, entry.endpoint) == (
        "hackney",
        "Hackney",
        f"127.0.0.1:{node_config.federation.port}",  # type: ignore[union-attr]
    )
    assert entry.verify_key == bytes(keys.verify_key)
    assert entry.box_key == keys.box_public_key
    assert (entry.oprf_public_key, entry.oprf_epoch) == (keys.oprf_public_key, keys.oprf_epoch)
    assert entry.certificate_sha256 == hashlib.sha256(der).digest()
    assert not entry.revoked
    assert body.version >= 1 and body.expires_at_ms > body.issued_at_ms


def test_a_used_expired_forged_unknown_or_other_boroughs_token_is_refused(
    coordinator: tuple[Path, RunningCoordinator], tmp_path: Path
) -> None:
    coordinator_dir, running = coordinator
    first = make_node(tmp_path / "hackney", "hackney", "Hackney")
    token = token_for(coordinator_dir, "hackney")
    assert enrol(first, running, token)[0] == 0

    second = make_node(tmp_path / "hackney-again", "hackney", "Hackney")
    status, said = enrol(second, running, token)
    assert status == 1 and "used already" in said, said

    config = load_config(coordinator_dir / "coordinator.toml")
    with Coordinator.open(config) as opened, opened.unit_of_work() as session:
        expired = issue_token(
            session,
            opened.keys,
            "hackney",
            valid_for=dt.timedelta(hours=1),
            issued_by="test",
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
        ).token
    status, said = enrol(second, running, str(expired))
    assert status == 1 and "expired" in said, said

    real = token_for(coordinator_dir, "hackney").split(".")
    forged = f"mash1.{real[1]}.{'A' * 43}"  # a real id, a guessed secret
    status, said = enrol(second, running, forged)
    assert status == 1 and "not authenticated by this enrolment token" in said, said
    status, said = enrol(second, running, f"mash1.{'0' * 16}.{'B' * 43}")
    assert status == 1 and "no such enrolment token" in said, said
    status, said = enrol(second, running, "hackney-please")
    assert status == 1 and "not an enrolment token" in said, said

    lambeth_token = token_for(coordinator_dir, "lambeth")
    status, said = enrol(second, running, lambeth_token)
    assert status == 1 and "enrols 'lambeth''s node, not 'hackney''s" in said, said

    assert not (second.parent / "data" / "keys" / CERT_FILE).exists()
    assert load_enrolment(second.parent / "data" / "keys") is None
    # the forged attempt did not burn the real token: its holder can still enrol with it
    status, said = enrol(second, running, ".".join(real))
    assert status == 0, said
