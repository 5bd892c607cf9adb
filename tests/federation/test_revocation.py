"""Revocation for real: a coordinator process and three enrolled node processes on loopback.

Lambeth asks Hackney for what it holds on a child; then the project team revokes Lambeth's node.
At their next directory refresh Hackney and Southwark refuse Lambeth's calls (its certificate
included) and stop listing it as a peer; the open request ends as cancelled on both sides
(Lambeth learns of its own revocation from the directory); Hackney and Southwark still check
with each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from coordinator.nodes.revocation import revoke
from coordinator.runtime import Coordinator
from mash_common.status import error_code_of
from node.disclosures import asking
from node.federation.asking import HOLDS, NOTHING, REFUSED, Why
from node.federation.local import LocalNode
from node.federation.runtime import Federation
from node.matching.keys import Identity
from node.referrals.borough_checks import identity_keys
from node.runtime import Node
from node.store.models import IncomingDisclosure, IncomingState, OutgoingDisclosure, OutgoingState
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc
from tests.coordinator.conftest import ADMIN as COORDINATOR_ADMIN
from tests.coordinator.conftest import build_coordinator
from tests.coordinator.processes import RunningCoordinator, coordinator_process, node_cli
from tests.federation.enrolled import enrolled_nodes
from tests.federation.nodes import Served, serving, wait_for_filters
from tests.federation.test_disclosure import AMARA, HEALTH_SECRET, POLICE_ITEM, _import
from tests.federation.test_disclosure import referral_about_amara as _referral
from tests.helpers import MANAGER
from tests.mtls import channel_to

pytestmark = pytest.mark.slow
BOROUGHS = [("hackney", "Hackney"), ("lambeth", "Lambeth"), ("southwark", "Southwark")]
REASON = "Lambeth's signing key was copied off its server"


@dataclass
class World:
    nodes: dict[str, LocalNode]
    served: dict[str, Served]
    root: Path
    coordinator_dir: Path
    coordinator: RunningCoordinator

    def node(self, borough: str) -> Node:
        return Node.open(self.nodes[borough].config_path)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    coordinator_dir = tmp_path / "coordinator"
    build_coordinator(coordinator_dir, people=())
    with coordinator_process(coordinator_dir) as running:
        nodes = {
            n.borough: n
            for n in enrolled_nodes(tmp_path / "nodes", coordinator_dir, running, BOROUGHS)
        }
        hackney = nodes["hackney"]
        _import(hackney, "police", [{"record_id": "P-1", **AMARA}], POLICE_ITEM, "CAD-88")
        _import(hackney, "health", [{"record_id": "H-1", **AMARA}], HEALTH_SECRET, "AE-12")
        with serving(list(nodes.values())) as served:
            wait_for_filters(list(nodes.values()))
            yield World(nodes, served, tmp_path, coordinator_dir, running)


def wait_until(what: str, condition, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def check_from(world: World, borough: str) -> dict[str, str]:
    with world.node(borough) as node:
        federation = Federation.open(node)
        try:
            why = Why("REF-1", "revocation test", node.keys.pseudonym("manager"))
            amara = Identity.from_fields(
                AMARA["forenames"],
                AMARA["surname"],
                AMARA["date_of_birth"],
                AMARA["postcode"],
                AMARA["nhs_number"],
            )
            answers = federation.asker.check(identity_keys([amara]), why)
        finally:
            federation.close()
    return {a.borough: a.outcome for a in answers}


def outgoing_state(world: World, disclosure_id: int) -> OutgoingState:
    with world.node("lambeth") as lambeth, lambeth.reading() as session:
        return session.get_one(OutgoingDisclosure, disclosure_id).state


def incoming_states(world: World) -> list[IncomingState]:
    with world.node("hackney") as hackney, hackney.reading() as session:
        return list(session.scalars(select(IncomingDisclosure.state)))


def test_a_revoked_node_is_refused_by_every_peer_and_its_disclosures_end_cancelled(
    world: World,
) -> None:
    referral_id = _referral(world)  # type: ignore[arg-type]
    with world.node("lambeth") as lambeth, lambeth.unit_of_work() as session:
        person = asking.askable(session, referral_id)[0]
        holder = Federation.open(lambeth)
        try:
            hackney = holder.peer("hackney")
        finally:
            holder.close()
        assert hackney is not None
        disclosure_id = asking.request_disclosure(
            session,
            MANAGER,
            lambeth.config,
            hackney,
            referral_id,
            person.person_id,
            "Child new to the borough with signs of harm: history needed to judge risk today",
            "Children Act 1989 s.47",
        ).id
    wait_until(
        "Hackney holds Lambeth's request",
        lambda: incoming_states(world) == [IncomingState.RECEIVED],
    )

    config = world.coordinator_dir / "coordinator.toml"
    with Coordinator.open(config) as coordinator, coordinator.unit_of_work() as session:
        revoke(session, COORDINATOR_ADMIN, "lambeth", REASON)

    wait_until(
        "Hackney cancels the revoked node's request",
        lambda: incoming_states(world) == [IncomingState.CANCELLED],
    )
    wait_until(
        "Lambeth cancels its own request once it learns it is revoked",
        lambda: outgoing_state(world, disclosure_id) is OutgoingState.CANCELLED,
    )
    for peer in ("hackney", "southwark"):
        wait_until(
            f"{peer} refuses Lambeth's calls",
            lambda peer=peer: _node_info_refused(world, caller="lambeth", callee=peer),
        )
        listed = node_cli(world.nodes[peer].config_path, "peers", "list")
        assert f"Revoked: lambeth ({REASON})" in listed.stdout, listed.stdout + listed.stderr
        assert "\nlambeth " not in listed.stdout
    answers = check_from(world, "lambeth")
    assert answers == {"hackney": REFUSED, "southwark": REFUSED}, answers
    assert check_from(world, "southwark") == {"hackney": HOLDS}
    assert check_from(world, "hackney") == {"southwark": NOTHING}


def _node_info_refused(world: World, *, caller: str, callee: str) -> bool:
    served = world.served[caller]
    with channel_to(world.nodes[callee].federation_port, callee, served.identity) as channel:
        try:
            node_pb2_grpc.NodeInfoStub(channel).GetNodeInfo(
                node_pb2.GetNodeInfoRequest(), timeout=5
            )
        except grpc.RpcError as error:
            return (
                error.code() is grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
                and error_code_of(error) == "revoked"
            )
    return False
