"""Nodes that use the coordinator's signed directory instead of a peers file, for real: a
coordinator process and three enrolled node processes on loopback.

The nodes fetch the directory on start and check each other with it; a directory whose
signature is not the pinned key's is refused (from the wire and on disk) and the good one kept;
with the coordinator down the nodes keep checking each other with the last good directory, and
say it is stale, until it expires, when they stop.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from nacl.signing import SigningKey

from mash_common.directory import DirectoryRefused, sign_directory
from mash_common.tls import TlsIdentity, server_credentials
from node.config import CoordinatorSettings
from node.federation.asking import HOLDS, NOTHING, Why
from node.federation.directory import (
    DIRECTORY_FILE,
    directory_status,
    fetch_directory,
    held_directory,
)
from node.federation.local import LocalNode
from node.federation.runtime import Federation
from node.importing.service import import_files
from node.matching.keys import Identity
from node.referrals.borough_checks import identity_keys
from node.runtime import Node
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc
from tests.coordinator.conftest import build_coordinator
from tests.coordinator.processes import RunningCoordinator, coordinator_process, node_cli
from tests.federation.enrolled import enrolled_nodes
from tests.federation.nodes import Served, serving, wait_for_filters
from tests.helpers import ADMIN, write_csv

pytestmark = pytest.mark.slow
VALID_SECONDS = 30
STALE_SECONDS = 4
BOROUGHS = [("hackney", "Hackney"), ("southwark", "Southwark"), ("lambeth", "Lambeth")]
WILLIAM = {
    "record_id": "P-77",
    "forenames": "William",
    "surname": "Okafor",
    "date_of_birth": "2013-03-07",
    "postcode": "E8 3QP",
    "nhs_number": "9434765919",
}


@dataclass
class World:
    root: Path
    coordinator_dir: Path
    coordinator: RunningCoordinator
    nodes: dict[str, LocalNode]
    served: dict[str, Served]

    def check_from(self, borough: str) -> dict[str, str]:
        """Each peer's answer to a check from `borough` (in this process, as the web UI asks)."""
        with Node.open(self.nodes[borough].config_path) as node:
            federation = Federation.open(node)
            try:
                why = Why("REF-1", "directory test", node.keys.pseudonym("manager"))
                identity = Identity.from_fields(
                    "William", "Okafor", "2013-03-07", "E8 3QP", "9434765919"
                )
                answers = federation.asker.check(identity_keys([identity]), why)
            finally:
                federation.close()
        return {answer.borough: answer.outcome for answer in answers}


def build_world(root: Path) -> Iterator[World]:
    coordinator_dir = root / "coordinator"
    build_coordinator(coordinator_dir, people=())
    config = coordinator_dir / "coordinator.toml"
    config.write_text(
        config.read_text().replace("valid_seconds = 86400", f"valid_seconds = {VALID_SECONDS}")
    )
    with coordinator_process(coordinator_dir) as running:
        nodes = {
            n.borough: n
            for n in enrolled_nodes(
                root / "nodes",
                coordinator_dir,
                running,
                BOROUGHS,
                extra_config=f"directory_stale_seconds = {STALE_SECONDS}\n",
            )
        }
        hackney = nodes["hackney"]
        csv = write_csv(hackney.directory / "police.csv", [WILLIAM])
        with Node.open(hackney.config_path) as node, node.unit_of_work(ADMIN) as session:
            import_files(session, ADMIN, "police", [csv])
        with serving(list(nodes.values())) as served:
            wait_for_filters(list(nodes.values()))
            yield World(root, coordinator_dir, running, nodes, served)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from build_world(tmp_path)


def held_config(world: World, borough: str):  # type: ignore[no-untyped-def]
    with Node.open(world.nodes[borough].config_path) as node:
        return node.config


def peers_list(world: World, borough: str) -> str:
    done = node_cli(world.nodes[borough].config_path, "peers", "list")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_nodes_check_each_other_through_the_directory_and_keep_the_last_good_one_until_it_expires(
    world: World,
) -> None:
    assert world.check_from("lambeth") == {"hackney": HOLDS, "southwark": NOTHING}
    listed = peers_list(world, "lambeth")
    assert "Peers from the coordinator's directory, version 3" in listed
    assert "WARNING" not in listed
    for borough in ("hackney", "southwark"):
        assert borough in listed

    world.coordinator.process.terminate()  # the coordinator goes down
    world.coordinator.process.wait(timeout=15)
    held = held_directory(held_config(world, "lambeth"))
    assert held is not None
    time.sleep(STALE_SECONDS + 1)
    assert world.check_from("lambeth") == {"hackney": HOLDS, "southwark": NOTHING}
    listed = peers_list(world, "lambeth")
    assert "WARNING: the directory (version 3) is" in listed and "hours old" in listed
    status = directory_status(held_config(world, "lambeth"))  # as the admin page shows it
    assert status is not None and "hours old" in status.warning

    time.sleep(max(0.0, held.expires_at.timestamp() - time.time()) + 1)
    assert world.check_from("lambeth") == {}  # no peers once it has expired
    listed = peers_list(world, "lambeth")
    assert "WARNING: the directory (version 3) expired" in listed
    status = directory_status(held_config(world, "lambeth"))
    assert status is not None and "expired" in status.warning
    # and a peer with an expired directory answers no one
    log = world.served["hackney"].log.read_text()
    assert "directory: not refreshed" in log


@dataclass
class _BadDirectory(directory_pb2_grpc.DirectoryServicer):
    body: directory_pb2.DirectoryBody

    def GetDirectory(self, request, context):  # type: ignore[no-untyped-def]
        return sign_directory(self.body, _Signer(SigningKey.generate()))


@dataclass
class _Signer:
    key: SigningKey

    def sign_directory(self, message: bytes) -> bytes:
        return self.key.sign(message).signature


def test_a_directory_not_signed_with_the_pinned_key_is_refused_and_the_good_one_kept(
    world: World,
) -> None:
    lambeth = world.nodes["lambeth"]
    with Node.open(lambeth.config_path) as node:
        config = node.config
    held_file = lambeth.directory / "data" / DIRECTORY_FILE
    good = held_file.read_bytes()
    held = held_directory(config)
    assert held is not None
    # an impostor with the coordinator's own TLS identity, but not its directory key: it lists
    # a newer version with lambeth's peers' endpoints pointing elsewhere
    body = directory_pb2.DirectoryBody(version=held.version + 1)
    body.issued_at_ms = int(time.time() * 1000)
    body.expires_at_ms = body.issued_at_ms + 3_600_000
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    directory_pb2_grpc.add_DirectoryServicer_to_server(_BadDirectory(body), server)
    identity = TlsIdentity.from_dir(world.coordinator_dir / "data" / "tls", coordinator=True)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(identity))
    server.start()
    try:
        impostor = dataclasses.replace(
            config, coordinator=CoordinatorSettings(f"127.0.0.1:{port}", 5.0)
        )
        with pytest.raises(DirectoryRefused, match="not the coordinator's pinned directory key"):
            fetch_directory(impostor, TlsIdentity.from_dir(config.keys_dir))
    finally:
        server.stop(0)
    # What Lambeth holds is still the coordinator's directory, signed by the pinned key: the same
    # version and the same nodes. (Not byte for byte: Lambeth's own server fetches the real one
    # on its schedule, and the coordinator signs each copy as it is fetched.)
    after = held_directory(config)
    assert after is not None and after.version == held.version
    assert after.nodes == held.nodes

    # a copy altered on disk is refused too: the node then has no peers rather than wrong ones
    signed = directory_pb2.SignedDirectory.FromString(good)
    tampered = directory_pb2.DirectoryBody.FromString(signed.body)
    tampered.nodes[0].endpoint = "evil.example.org:443"
    signed.body = tampered.SerializeToString()
    held_file.write_bytes(signed.SerializeToString())
    with pytest.raises(DirectoryRefused):
        held_directory(config)
    assert world.check_from("lambeth") == {}


def test_a_node_enrolled_while_the_others_serve_is_checked_by_them_at_the_next_directory_fetch(
    tmp_path: Path,
) -> None:
    """With a full round only every ten minutes, the directory (fetched every two seconds) is
    what brings the newcomer in: its new version starts a round that fetches its filter."""
    coordinator_dir = tmp_path / "coordinator"
    build_coordinator(coordinator_dir, people=())
    slow = "directory_refresh_seconds = 2\n"
    with coordinator_process(coordinator_dir) as running:
        first = enrolled_nodes(
            tmp_path / "nodes", coordinator_dir, running, BOROUGHS[:2], extra_config=slow
        )
        for local in first:  # full rounds every ten minutes, not every two seconds
            text = local.config_path.read_text().replace(
                "refresh_seconds = 2\n", "refresh_seconds = 600\n", 1
            )
            local.config_path.write_text(text)
        with serving(first):
            wait_for_filters(first)
            (newcomer,) = enrolled_nodes(
                tmp_path / "nodes", coordinator_dir, running, BOROUGHS[2:], extra_config=slow
            )
            with serving([newcomer]):
                started = time.monotonic()
                wait_for_filters([*first, newcomer], timeout_s=60)
                assert time.monotonic() - started < 60
