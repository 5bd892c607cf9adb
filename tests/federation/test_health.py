"""Heartbeats, the health view and the audit witness, for real: a coordinator process and two
enrolled node processes on loopback.

Each node's heartbeat reaches the coordinator (versions, index, queues, last import; nothing
about a person) and the Nodes page shows it live; a node stopped for longer than the set time is
flagged silent. Each node's signed checkpoints are kept by the coordinator, and `audit verify
--against-coordinator` agrees with them; a node whose log is truncated and grown again (its
store made afresh, with the same key) is flagged by the witness on the dashboard and fails
`audit verify --against-coordinator`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coordinator.config import load_config
from coordinator.nodes.heartbeats import health_of
from coordinator.runtime import Coordinator
from coordinator.store.models import NodeHeartbeat, WitnessedCheckpoint
from coordinator.web import create_app
from node import audit
from node.access import Actor
from node.agencies import sync_agencies
from node.federation.local import LocalNode
from node.matching.keys import KEY_SET_VERSION
from node.runtime import Node
from tests.coordinator.conftest import build_coordinator, client_for
from tests.coordinator.processes import RunningCoordinator, coordinator_process, node_cli
from tests.federation.enrolled import enrolled_nodes
from tests.federation.nodes import Served, _serve, serving, wait_for_filters
from tests.helpers import ADMIN, write_csv
from tests.web.conftest import WebClient, WebUser

pytestmark = pytest.mark.slow
SILENT_SECONDS = 6
BOROUGHS = [("hackney", "Hackney"), ("lambeth", "Lambeth")]
PERSON = {
    "record_id": "P-1",
    "forenames": "William",
    "surname": "Okafor",
    "date_of_birth": "2013-03-07",
    "postcode": "E8 3QP",
    "nhs_number": "9434765919",
}


@dataclass
class World:
    coordinator_dir: Path
    coordinator: RunningCoordinator
    users: dict[str, WebUser]
    nodes: dict[str, LocalNode]
    served: dict[str, Served]
    stack: ExitStack
    viewer: WebClient | None = None

    def opened(self) -> Coordinator:
        return Coordinator.open(self.coordinator_dir / "coordinator.toml")

    def _viewer(self) -> WebClient:
        if self.viewer is None:  # signed in once: a TOTP code is good for one sign-in
            config = load_config(self.coordinator_dir / "coordinator.toml")
            self.viewer = client_for(create_app(config, testing=True), self.users["viewer"])
        return self.viewer

    def nodes_page(self) -> str:
        return " ".join(self._viewer().get("/nodes").soup.get_text(" ").split())

    def row(self, borough: str) -> str:
        page = self._viewer().get("/nodes")
        row = page.soup.select_one(f"tr[data-borough={borough}]")
        assert row is not None
        return " ".join(row.get_text(" ").split())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    coordinator_dir = tmp_path / "coordinator"
    people = build_coordinator(coordinator_dir)
    config = coordinator_dir / "coordinator.toml"
    config.write_text(
        config.read_text().replace(
            "silent_after_seconds = 900", f"silent_after_seconds = {SILENT_SECONDS}"
        )
    )
    with coordinator_process(coordinator_dir) as running:
        nodes = {
            n.borough: n
            for n in enrolled_nodes(tmp_path / "nodes", coordinator_dir, running, BOROUGHS)
        }
        csv = write_csv(nodes["hackney"].directory / "police.csv", [PERSON])
        with Node.open(nodes["hackney"].config_path) as node, node.unit_of_work(ADMIN) as session:
            from node.importing.service import import_files

            import_files(session, ADMIN, "police", [csv])
        grow(nodes["hackney"], 5)
        with ExitStack() as stack:
            served = stack.enter_context(serving(list(nodes.values())))
            wait_for_filters(list(nodes.values()))
            yield World(coordinator_dir, running, people, nodes, served, stack)


def grow(local: LocalNode, entries: int) -> None:
    """Append entries to a node's audit log and sign a checkpoint of it (as a CLI command
    does)."""
    node = Node.open(local.config_path, checkpoint_every_unit=True)
    with node, node.unit_of_work() as session:
        for number in range(entries):
            audit.record(session, Actor.system("test"), "test.entry", detail={"n": number})


def wait_until(what: str, condition, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def _heartbeats(world: World) -> set[str]:
    with world.opened() as coordinator, coordinator.reading() as session:
        return set(session.scalars(select(NodeHeartbeat.borough)))


def _witnessed(world: World, borough: str) -> int:
    with world.opened() as coordinator, coordinator.reading() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(WitnessedCheckpoint)
                .where(WitnessedCheckpoint.borough == borough)
            )
            or 0
        )


def test_heartbeats_reach_the_dashboard_and_a_silent_node_is_flagged(world: World) -> None:
    wait_until("both nodes' heartbeats", lambda: _heartbeats(world) == {"hackney", "lambeth"})
    with world.opened() as coordinator, coordinator.reading() as session:
        health = health_of(
            session,
            ["hackney", "lambeth"],
            now=dt.datetime.now(dt.UTC),
            silent_after=dt.timedelta(seconds=SILENT_SECONDS),
        )
    hackney = health["hackney"]
    assert not hackney.silent
    assert hackney.key_set_version == KEY_SET_VERSION
    assert hackney.filter_epoch == 1 and hackney.filter_size > 0
    assert hackney.last_import_at is not None and health["lambeth"].last_import_at is None
    assert hackney.directory_version == 2  # both enrolled
    assert hackney.software_version
    assert "Live" in world.row("hackney") and "Live" in world.row("lambeth")

    world.served["lambeth"].stop()
    wait_until("Lambeth flagged silent", lambda: "Silent" in world.row("lambeth"), 30)
    assert "Live" in world.row("hackney")


def test_the_witness_flags_a_log_truncated_and_grown_again(world: World) -> None:
    hackney = world.nodes["hackney"]
    wait_until(
        "Hackney's import, signed, at the coordinator", lambda: _largest(world, "hackney") > 1
    )
    agreed = node_cli(hackney.config_path, "audit", "verify", "--against-coordinator")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "Audit log consistent with the coordinator" in agreed.stdout

    # The node's operator replaces its history: the store and the checkpoint file go, the keys
    # stay, and the log starts again and grows.
    world.served["hackney"].stop()
    data = hackney.directory / "data"
    for path in data.glob("node.db*"):
        path.unlink()
    (data / "keys" / "audit-checkpoints").unlink()
    with Node.initialise(hackney.config_path) as node, node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
    grow(hackney, 1)
    held = _witnessed(world, "hackney")
    with _serve(hackney):
        wait_until(
            "the new log's checkpoints at the coordinator",
            lambda: _witnessed(world, "hackney") > held,
        )
        wait_until(
            "the dashboard flags Hackney", lambda: "Audit log inconsistent" in world.row("hackney")
        )
    page = world.nodes_page()
    assert "Hackney's audit log is not consistent" in page and "the log was truncated" in page

    refused = node_cli(hackney.config_path, "audit", "verify", "--against-coordinator")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "AUDIT LOG DISAGREES WITH THE COORDINATOR" in refused.stderr
    assert "truncated" in refused.stderr


def _largest(world: World, borough: str) -> int:
    with world.opened() as coordinator, coordinator.reading() as session:
        found = session.scalar(
            select(func.max(WitnessedCheckpoint.size)).where(WitnessedCheckpoint.borough == borough)
        )
    return found or 0
