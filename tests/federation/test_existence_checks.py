"""Existence checks between real node processes on loopback (DESIGN section 6).

Five boroughs: Hackney holds William Okafor (police and health records), Southwark holds a weaker
trace of him, Harrow holds nothing (and allows few evaluations a day), Brent is stopped once the
others hold its filter, and Lambeth asks. Lambeth finds him at Hackney on several kinds of
variant; the holders learn that Lambeth asked, never whom about; every refusal of a malformed,
forged or replayed request is a status code and an audit entry at the holder.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mash_common import ca
from mash_common.envelope import new_header, seal
from mash_common.status import error_code_of
from mash_common.tls import TlsIdentity
from node.federation import index, index_filter, voprf
from node.federation.asking import HOLDS, NOT_ANSWERED, NOTHING, REFUSED, Why
from node.federation.local import LocalNode
from node.federation.runtime import Federation
from node.importing.service import import_files
from node.keys import load_keys
from node.matching.keys import KEY_SET_VERSION, Identity, derive_keys
from node.referrals.borough_checks import identity_keys
from node.runtime import Node
from protos.mash.federation.v1 import check_pb2, check_pb2_grpc
from tests.federation.nodes import (
    Served,
    local_federation,
    serving,
    wait_for_filters,
    wait_for_sequence,
)
from tests.helpers import ADMIN, write_csv
from tests.mtls import channel_to

BOROUGHS = [
    ("hackney", "Hackney"),
    ("southwark", "Southwark"),
    ("harrow", "Harrow"),
    ("brent", "Brent"),
    ("lambeth", "Lambeth"),
]
WILLIAM = {
    "forenames": "William",
    "surname": "Okafor",
    "date_of_birth": "2013-03-07",
    "postcode": "E8 3QP",
    "nhs_number": "9434765919",
}
HARROW_DAILY_LIMIT = 400
CHECK_TYPE = check_pb2.CheckPayload.DESCRIPTOR.full_name


@dataclass
class World:
    nodes: dict[str, LocalNode]
    served: dict[str, Served]
    lambeth: Node
    federation: Federation
    root: Path

    def check(self, identity: Identity, purpose: str = "LAM-2026-00042 check") -> dict[str, object]:
        why = Why("LAM-2026-00042", purpose, self.lambeth.keys.pseudonym("lambeth.manager"))
        answers = self.federation.asker.check(identity_keys([identity]), why)
        return {answer.borough: answer for answer in answers}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("federation")
    nodes = {n.borough: n for n in local_federation(root / "nodes", BOROUGHS)}
    with open(nodes["harrow"].config_path, "a", encoding="utf-8") as config:
        config.write(f"evaluations_per_peer_per_day = {HARROW_DAILY_LIMIT}\n")
    _import(nodes["hackney"], "police", [{"record_id": "P-77", **WILLIAM}])
    _import(
        nodes["hackney"],
        "health",
        [{"record_id": "H-31", **WILLIAM, "forenames": "Bill", "nhs_number": ""}],
    )
    weaker = {**WILLIAM, "date_of_birth": "2013-07-03", "postcode": "SE5 8RS", "nhs_number": ""}
    _import(nodes["southwark"], "education", [{"record_id": "UPN-9", **weaker}])
    with serving(list(nodes.values())) as served:
        wait_for_filters(list(nodes.values()))
        served["brent"].stop()  # its filter is held by the others; it answers no more
        lambeth = Node.open(nodes["lambeth"].config_path)
        federation = Federation.open(lambeth)
        try:
            yield World(nodes, served, lambeth, federation, root)
        finally:
            federation.close()
            lambeth.close()


def _import(node: LocalNode, agency: str, rows: list[dict[str, str]]) -> None:
    path = write_csv(node.directory / f"{agency}.csv", rows)
    with Node.open(node.config_path) as opened, opened.unit_of_work(ADMIN) as session:
        import_files(session, ADMIN, agency, [path])


def _identity(**changes: str | None) -> Identity:
    fields = {**WILLIAM, **changes}
    return Identity.from_fields(
        fields["forenames"] or "",
        fields["surname"] or "",
        fields["date_of_birth"],
        fields["postcode"],
        fields["nhs_number"],
    )


@pytest.mark.parametrize(
    "variant",
    [
        {},  # as Hackney holds him
        {"forenames": "Wiliam"},  # a typo
        {"forenames": "Bill", "nhs_number": None},  # a nickname, no NHS number
        {"date_of_birth": "2013-07-03", "nhs_number": None},  # day and month swapped
        {"postcode": "N1 9GU", "nhs_number": None},  # moved, no NHS number
    ],
    ids=["exact", "typo", "nickname", "swapped-date", "moved"],
)
def test_a_person_held_in_one_borough_is_found_from_another(
    world: World, variant: dict[str, str | None]
) -> None:
    started = time.perf_counter()
    answers = world.check(_identity(**variant))
    assert time.perf_counter() - started < 1.5  # within a second, with a margin for the VM
    assert answers["hackney"].outcome == HOLDS, answers["hackney"]
    assert answers["brent"].outcome == NOT_ANSWERED  # stopped: never "holds nothing"
    assert set(answers) == {"hackney", "southwark", "harrow", "brent"}


def test_the_answer_says_how_strongly_it_matched(world: World) -> None:
    answers = world.check(_identity())
    assert answers["hackney"].strength == "certain"
    assert answers["southwark"].outcome == HOLDS  # only a weaker trace of him there
    assert answers["southwark"].strength in ("strong", "probable")
    assert answers["harrow"].outcome == NOTHING


def test_a_person_held_nowhere_is_held_nowhere(world: World) -> None:
    answers = world.check(
        Identity.from_fields("Zebedee", "Quillfeather", "1999-12-31", "W1A 1AA", None)
    )
    assert {b: a.outcome for b, a in answers.items()} == {
        "hackney": NOTHING,
        "southwark": NOTHING,
        "harrow": NOTHING,
        "brent": NOT_ANSWERED,
    }


def test_the_holders_learn_who_asked_never_whom_about(world: World) -> None:
    """After many checks of people the holders do not hold, nothing of those people is in a
    holder's store, audit log or log files (searched byte for byte)."""
    asked = [
        Identity.from_fields(f, s, d, p, n)
        for f, s, d, p, n in (
            ("Ottoline", "Brackwater", "2011-02-03", "SE15 4QN", "4010232137"),
            ("Caspian", "Ellingsworth", "2016-08-19", "N16 0AA", None),
            ("Marisol", "Fenwick-Tate", "2009-11-30", "E5 9LJ", "9434765870"),
        )
    ]
    for identity in asked:
        world.check(identity, purpose="LAM-2026-00043 privacy check")
    secrets = []
    for identity in asked:
        secrets += [identity.forenames, identity.surname, identity.postcode or ""]
        secrets += [identity.date_of_birth.isoformat()] if identity.date_of_birth else []
        secrets += [identity.nhs_number] if identity.nhs_number else []
        for key in derive_keys(identity):
            secrets += [key.value, key.value.hex()]
    for holder in ("hackney", "southwark", "harrow"):
        folder = world.nodes[holder].directory
        files = [p for p in folder.rglob("*") if p.is_file() and "keys" not in p.parts]
        blob = b"".join(p.read_bytes() for p in files)
        found = [s for s in secrets if (s if isinstance(s, bytes) else s.encode()) in blob and s]
        assert found == [], f"{holder} keeps what it was asked about: {found}"
        with sqlite3.connect(folder / "data" / "node.db") as db:
            rows = db.execute(
                "SELECT actor, purpose, detail FROM audit_entries "
                "WHERE action = 'federation.check-answered'"
            ).fetchall()
        assert rows and all(actor.startswith("peer:lambeth/user-") for actor, _, _ in rows)
        assert any(purpose == "LAM-2026-00043 privacy check" for _, purpose, _ in rows)


def test_an_answer_made_with_another_key_never_hits(world: World) -> None:
    """A lookup of a value computed under any other key than the holder's finds nothing."""
    held = world.federation.filters.filter("hackney")
    assert held is not None
    state, published = held
    other_key = voprf.derive_key_pair(b"\x42" * 32, b"not hackney's", voprf.Mode.VOPRF)[0]
    values = [key.value for key in derive_keys(_identity())]
    assert not any(
        published.contains(voprf.evaluate(other_key, value, voprf.Mode.VOPRF)) for value in values
    )
    real = [
        published.contains(voprf.evaluate(_oprf(world, "hackney"), v, voprf.Mode.VOPRF))
        for v in values
    ]
    assert any(real)  # the same lookups under the holder's key do hit
    assert isinstance(published, index_filter.OverlaidFilter) and state.epoch == 1


def _oprf(world: World, borough: str) -> bytes:
    return load_keys(world.nodes[borough].directory / "data" / "keys").oprf


def test_over_the_daily_limit_a_borough_refuses(world: World) -> None:
    for _ in range(HARROW_DAILY_LIMIT):
        answers = world.check(_identity(forenames="Limitless"))
        if answers["harrow"].outcome != NOTHING:
            break
    assert answers["harrow"].outcome == REFUSED
    assert "evaluations today" in answers["harrow"].detail
    assert answers["hackney"].outcome == HOLDS  # the others still answer


# --- forged, replayed and malformed requests ---------------------------------------------------


def _request(
    world: World,
    *,
    signer_borough: str = "lambeth",
    envelope_borough: str | None = None,
    key_set_version: int = KEY_SET_VERSION,
    timestamp_shift_s: float = 0.0,
    elements: list[bytes] | None = None,
) -> check_pb2.CheckRequest:
    keys = load_keys(world.nodes[signer_borough].directory / "data" / "keys")
    header = new_header(
        signer_borough,
        key_set_version=key_set_version,
        referral_reference="LAM-2026-00044",
        purpose="security test",
        user_pseudonym="user-test",
        clock=lambda: time.time() + timestamp_shift_s,
    )
    if elements is None:
        elements = list(voprf.blind([b"\x07" * 16], voprf.Mode.VOPRF).blinded_elements)
    payload = check_pb2.CheckPayload(header=header, blinded_elements=elements, epoch=1)
    envelope = seal(
        payload.SerializeToString(),
        CHECK_TYPE,
        keys,
        envelope_borough or signer_borough,
        keys.signing_key_id,
    )
    return check_pb2.CheckRequest(envelope=envelope)


def _call(
    world: World, request: check_pb2.CheckRequest, identity: TlsIdentity | None = None
) -> grpc.RpcError | None:
    holder = world.nodes["harrow"]
    with channel_to(
        holder.federation_port, "harrow", identity or world.served["lambeth"].identity
    ) as ch:
        try:
            check_pb2_grpc.ExistenceCheckStub(ch).Check(request, timeout=10)
        except grpc.RpcError as error:
            return error
    return None


def _refusals_at_harrow(world: World) -> list[str]:
    with sqlite3.connect(world.nodes["harrow"].directory / "data" / "node.db") as db:
        return [
            detail
            for (detail,) in db.execute(
                "SELECT detail FROM audit_entries WHERE action = 'federation.check-refused'"
            )
        ]


@pytest.mark.parametrize(
    ("forgery", "status", "reason"),
    [
        ({"envelope_borough": "hackney"}, grpc.StatusCode.PERMISSION_DENIED, "wrong-borough"),
        ({"timestamp_shift_s": -900}, grpc.StatusCode.PERMISSION_DENIED, "stale"),
        ({"key_set_version": 99}, grpc.StatusCode.FAILED_PRECONDITION, "key-set-version"),
        ({"elements": [bytes(32)]}, grpc.StatusCode.INVALID_ARGUMENT, "invalid"),
        ({"elements": [b"\xff" * 32]}, grpc.StatusCode.INVALID_ARGUMENT, "invalid"),
    ],
    ids=["mismatched-borough", "stale", "unknown-key-set", "identity-element", "not-an-element"],
)
def test_a_forged_or_malformed_request_is_refused_and_audited(
    world: World, forgery: dict[str, object], status: grpc.StatusCode, reason: str
) -> None:
    before = len(_refusals_at_harrow(world))
    error = _call(world, _request(world, **forgery))  # type: ignore[arg-type]
    assert error is not None and error.code() is status, error
    assert error_code_of(error) == reason
    refusals = _refusals_at_harrow(world)
    assert len(refusals) == before + 1 and f'"code":"{reason}"' in refusals[-1]


def test_a_replayed_request_is_refused_and_audited(world: World) -> None:
    request = _request(world)
    first = _call(world, request)
    assert first is None or first.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # the limit test
    replay = _call(world, request)
    assert replay is not None and replay.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(replay) == "replayed"
    assert '"code":"replayed"' in _refusals_at_harrow(world)[-1]


def test_a_borough_the_holder_does_not_know_is_refused(world: World, tmp_path: Path) -> None:
    """Camden has a federation certificate but is in no peers file: its envelope's key is
    unknown at Harrow."""
    ca.issue_with_key(world.root / "nodes" / "ca", "camden", tmp_path / "camden")
    camden = TlsIdentity.from_dir(tmp_path / "camden")
    before = len(_refusals_at_harrow(world))
    request = _request(world)
    forged = check_pb2.CheckRequest(envelope=replace_borough(request.envelope, "camden"))
    error = _call(world, forged, camden)
    assert error is not None and error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) in ("unknown-key", "wrong-borough")
    assert len(_refusals_at_harrow(world)) == before + 1


def replace_borough(envelope, borough: str):  # type: ignore[no-untyped-def]
    forged = type(envelope)()
    forged.CopyFrom(envelope)
    forged.borough = borough
    return forged


def test_a_certificate_of_another_ca_does_not_connect(world: World, tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "rogue")
    ca.issue_with_key(tmp_path / "rogue", "lambeth", tmp_path / "lambeth")
    rogue = replace(
        TlsIdentity.from_dir(tmp_path / "lambeth"),
        ca_certificate=world.served["lambeth"].identity.ca_certificate,
    )
    error = _call(world, _request(world), rogue)
    assert error is not None and error.code() is grpc.StatusCode.UNAVAILABLE  # no handshake


def test_a_stock_client_lists_the_services_and_calls_health(world: World) -> None:
    holder = world.nodes["hackney"]
    with channel_to(holder.federation_port, "hackney", world.served["lambeth"].identity) as ch:
        services = set(ProtoReflectionDescriptorDatabase(ch).get_services())
    assert {
        "mash.federation.v1.ExistenceCheck",
        "mash.federation.v1.NodeInfo",
        "grpc.health.v1.Health",
    } <= services


def test_mash_node_health_asks_the_nodes_own_server_over_mutual_tls(world: World) -> None:
    """What a deployment waits for after a start: SERVING from a node that serves, and a failure
    that says so from one that was stopped (Brent)."""

    def health(borough: str) -> subprocess.CompletedProcess[str]:
        config = str(world.nodes[borough].config_path)
        return subprocess.run(
            [sys.executable, "-m", "node.cli", "--config", config, "health", "--timeout", "3"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    serving_ = health("hackney")
    assert serving_.returncode == 0, serving_.stderr
    assert serving_.stdout.strip().endswith(": SERVING")
    stopped = health("brent")
    assert stopped.returncode == 1
    assert "not serving" in stopped.stderr and "Traceback" not in stopped.stderr


def test_a_person_imported_later_is_found_once_the_delta_arrives(world: World) -> None:
    newcomer = {
        "forenames": "Ines",
        "surname": "Kowalczyk",
        "date_of_birth": "2017-02-14",
        "postcode": "SE15 3TL",
        "nhs_number": "",
    }
    identity = _identity(**newcomer)
    assert world.check(identity)["southwark"].outcome == NOTHING
    southwark = world.nodes["southwark"]
    _import(southwark, "health", [{"record_id": "H-200", **newcomer}])
    deadline = time.monotonic() + 30
    while True:  # the server's upkeep may be refreshing at this moment
        try:
            with Node.open(southwark.config_path) as node:
                refreshed = index.refresh(node)
                sequence = index.latest_sequence(node, refreshed.epoch)
            break
        except index.IndexBusy:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert refreshed.evaluated > 0 and not refreshed.rebuilt  # published as a delta
    wait_for_sequence(world.nodes["lambeth"], southwark, sequence)
    assert world.check(identity)["southwark"].outcome == HOLDS
