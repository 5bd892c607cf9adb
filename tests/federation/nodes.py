"""Real hub nodes in processes of their own on loopback: a local federation (CA, certificates made
from each node's own request, peers files), each node initialised, served by `mash-node serve`
(web UI and federation gRPC), waited for by health and by the filters it has fetched, and
stopped (SIGTERM, then SIGKILL) however the test ends."""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mash_common.tls import TlsIdentity
from node.access import Actor
from node.agencies import sync_agencies
from node.federation.local import LocalNode, make_local_federation
from node.federation.runtime import Federation
from node.referrals.borough_checks import check_other_boroughs
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Pathway, Rag
from tests.mtls import channel_to, wait_serving

START_TIMEOUT_S = 60.0
AGENCIES = ("police", "health", "education", "childrens-social-care")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def local_federation(
    root: Path, boroughs: Sequence[tuple[str, str]], *, extra_config: str = ""
) -> list[LocalNode]:
    """A local federation of initialised nodes with the standard test agencies."""
    nodes = make_local_federation(
        root,
        boroughs,
        agencies=AGENCIES,
        web_ports=[free_port() for _ in boroughs],
        federation_ports=[free_port() for _ in boroughs],
        extra_config="refresh_seconds = 2\n" + extra_config,
    )
    for local in nodes:
        with Node.initialise(local.config_path) as node, node.unit_of_work() as session:
            sync_agencies(session, node.config.agencies)
    return nodes


@dataclass
class Served:
    local: LocalNode
    process: subprocess.Popen[str]
    web_url: str
    log: Path

    @property
    def identity(self) -> TlsIdentity:
        return TlsIdentity.from_dir(self.local.directory / "data" / "keys")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(nodes: Sequence[LocalNode]) -> Iterator[dict[str, Served]]:
    """Serve every node until the block ends (every process stopped, also on failure)."""
    with ExitStack() as stack:
        served = {}
        for local in nodes:
            served[local.borough] = stack.enter_context(_serve(local))
        for node in served.values():
            with channel_to(node.local.federation_port, node.local.borough, node.identity) as ch:
                wait_serving(ch)
        yield served


@contextmanager
def _serve(local: LocalNode) -> Iterator[Served]:
    log = local.directory / "server.log"
    handle = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "--config", str(local.config_path), "serve"],
        stdout=subprocess.PIPE,
        stderr=handle,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    served = Served(local, process, "", log)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("Listening on http://"):
            raise AssertionError(f"{local.borough} did not start: {log.read_text()}")
        served.web_url = line.removeprefix("Listening on ").strip()
        yield served
    finally:
        served.stop()
        handle.close()


def wait_for_filters(nodes: Sequence[LocalNode], timeout_s: float = START_TIMEOUT_S) -> None:
    """Until every node holds a filter of every other (each fetches them every refresh)."""
    deadline = time.monotonic() + timeout_s
    wanted = [
        node.directory / "data" / "peers" / other.borough / "state.json"
        for node in nodes
        for other in nodes
        if other is not node
    ]
    while time.monotonic() < deadline:
        if all(path.exists() for path in wanted):
            return
        time.sleep(0.1)
    missing = [str(path) for path in wanted if not path.exists()]
    raise AssertionError(f"filters not fetched in {timeout_s} s: {missing}")


def wait_for_sequence(
    node: LocalNode, holder: LocalNode, at_least: int, timeout_s: float = 30
) -> None:
    """Until `node` holds `holder`'s filter up to change `at_least` (a delta has arrived)."""
    state = node.directory / "data" / "peers" / holder.borough / "state.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if json.loads(state.read_text())["sequence"] >= at_least:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{node.borough} did not receive {holder.borough}'s changes")


def red_referral_checked(
    node: Node,
    manager: Actor,
    person: Mapping[str, str],
    *,
    postcode: str,
    account: str,
    pathway: Pathway = Pathway.CHILD,
) -> tuple[int, dict[str, str]]:
    """A referral about `person` recorded at `node` by its MASH manager, rated red, and checked
    with the other boroughs as the referral page's "Check other boroughs" does: the referral's
    id and each borough's outcome."""
    policy = node.config.referrals
    with node.unit_of_work() as session:
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=pathway,
                source_kind="agency",
                source_agency="education",
                categories=("neglect",),
                account=account,
                people=(
                    PersonDetails(
                        surname=person["surname"],
                        forenames=person["forenames"],
                        date_of_birth=dt.date.fromisoformat(person["date_of_birth"]),
                        postcode=postcode,
                    ),
                ),
                received_at=dt.datetime.now(dt.UTC),
            ),
            policy,
        )
        set_rag(session, manager, referral.id, Rag.RED, "Signs of harm", policy)
        referral_id = referral.id
    federation = Federation.open(node)
    try:
        answers = check_other_boroughs(
            node.unit_of_work,
            federation.asker,
            manager,
            referral_id,
            node.keys.pseudonym(manager.username),
        )
    finally:
        federation.close()
    return referral_id, {a.borough: a.outcome for _, found in answers for a in found}
