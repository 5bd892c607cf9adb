"""Monthly reports from a hub node to the coordinator, for real: a coordinator process
(`mash-coordinator serve`) and the node's CLI (`mash-node report`) in processes of their own, over
mutual TLS with the federation CA, each report signed with the node's key.

Delivered reports are stored once; unsigned, wrongly signed, wrong-borough, replayed and
unsuppressed reports, and a caller with a certificate the coordinator does not know for its
borough, are refused with a status and a code; a coordinator stopped for a while gets the queued
reports once it is back, oldest first, none lost or doubled (and a request captured before the
restart is still refused as a replay after it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from coordinator.runtime import Coordinator
from coordinator.store.models import EvaluationCount, EvaluationReport, ReportReceipt
from mash_common import ca
from mash_common.client import coordinator_channel
from mash_common.envelope import Ed25519Signer
from mash_common.evaluation import CountFigure, MonthlyFigures, sealed_report
from mash_common.status import error_code_of
from mash_common.tls import TlsIdentity
from node.agencies import sync_agencies
from node.config import render_config
from node.keys import load_keys
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.runtime import Node
from node.store.models import EvaluationReportQueue, Pathway
from protos.mash.coordinator.v1 import reports_pb2, reports_pb2_grpc
from tests.coordinator.conftest import build_coordinator
from tests.coordinator.processes import (
    RunningCoordinator,
    coordinator_process,
    free_port,
    node_cli,
    stop,
    wait_healthy,
)
from tests.helpers import MANAGER

pytestmark = pytest.mark.slow
MONTH = "2026-10"


@dataclasses.dataclass(frozen=True)
class Federation:
    coordinator_dir: Path
    node_config: Path
    identity: TlsIdentity  # hackney's node's TLS identity
    signer: Ed25519Signer  # hackney's node's signing key
    grpc_port: int


def _node(directory: Path, coordinator_dir: Path, port: int) -> Path:
    """Hackney's node: initialised, certified by the coordinator's CA, with contacts in October."""
    directory.mkdir()
    config = directory / "node.toml"
    config.write_text(
        render_config("hackney", "Hackney", ["police", "health", "education"])
        + f'\n[coordinator]\naddress = "127.0.0.1:{port}"\ntimeout_seconds = 5\n',
        encoding="utf-8",
    )
    with Node.initialise(config) as node, node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
        for i in range(9):
            record_contact(
                session,
                MANAGER,
                NewContact(
                    pathway=Pathway.CHILD,
                    source_kind="agency",
                    source_agency="police",
                    categories=("neglect",),
                    account="Reported by officers",
                    people=(PersonDetails(surname=f"Quennell{i}", forenames="Tamsin"),),
                    received_at=dt.datetime(2026, 10, 5 + i, 10, tzinfo=dt.UTC),
                ),
                node.config.referrals,
            )
        keys_dir = node.config.keys_dir
    ca.issue_with_key(coordinator_dir / "ca", "hackney", keys_dir)
    return config


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    root = tmp_path_factory.mktemp("report-federation")
    port = free_port()
    build_coordinator(root / "coordinator", grpc_port=port, people=())
    node_config = _node(root / "node", root / "coordinator", port)
    keys = load_keys(node_config.parent / "data" / "keys")
    with (root / "coordinator" / "coordinator.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[[nodes]]\n"
            'borough = "hackney"\n'
            f'verify_key = "{bytes(keys.verify_key).hex()}"\n'
            f'certificate = "{node_config.parent / "data" / "keys" / "tls.crt"}"\n'
        )
    identity = TlsIdentity.from_dir(node_config.parent / "data" / "keys")
    return Federation(
        root / "coordinator", node_config, identity, Ed25519Signer(keys.signing), port
    )


@pytest.fixture(scope="module")
def running(federation: Federation) -> Iterator[RunningCoordinator]:
    with coordinator_process(federation.coordinator_dir, grpc_port=federation.grpc_port) as up:
        wait_healthy(up.grpc_port, federation.identity)
        yield up


def _stored(federation: Federation) -> dict[str, int]:
    """Each stored month of hackney, and its contacts (as the coordinator's store holds them)."""
    config = federation.coordinator_dir / "coordinator.toml"
    with Coordinator.open(config) as coordinator, coordinator.reading() as db:
        return {
            f"{month:%Y-%m}": value
            for month, value in db.execute(
                select(EvaluationReport.month, EvaluationCount.value)
                .join(EvaluationCount)
                .where(
                    EvaluationReport.borough_code == "hackney",
                    EvaluationCount.family == "contacts.total",
                )
            )
        }


def _receipts(federation: Federation) -> list[str]:
    config = federation.coordinator_dir / "coordinator.toml"
    with Coordinator.open(config) as coordinator, coordinator.reading() as db:
        return [
            f"{r.month:%Y-%m}" for r in db.scalars(select(ReportReceipt).order_by(ReportReceipt.id))
        ]


def test_the_node_sends_its_month_and_the_coordinator_stores_it(
    federation: Federation, running: RunningCoordinator
) -> None:
    shown = node_cli(federation.node_config, "report", "--month", MONTH)
    sent = node_cli(federation.node_config, "report", "--month", MONTH, "--send")
    again = node_cli(federation.node_config, "report", "--month", MONTH, "--send")

    assert shown.returncode == 0, shown.stderr
    assert "Hackney's evaluation figures for October 2026" in shown.stdout
    assert "Contacts: All 9" in shown.stdout
    assert "Contacts by source: Police 9" in shown.stdout
    assert "Quennell" not in shown.stdout and "Tamsin" not in shown.stdout
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert re.search(r"2026-10 \(report \d+\): delivered \(stored\)", sent.stdout)
    assert re.search(r"2026-10 \(report \d+\): delivered \(replaced\)", again.stdout)
    assert _stored(federation)[MONTH] == 9  # once, however often it is sent


def _figures(**changes: object) -> MonthlyFigures:
    base = MonthlyFigures(
        month="2026-09",
        counts=(CountFigure("contacts.total", "all", 12),),
        generated_at_ms=int(dt.datetime.now(dt.UTC).timestamp() * 1000),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _send(
    federation: Federation,
    request: reports_pb2.SubmitReportRequest,
    identity: TlsIdentity | None = None,
) -> grpc.RpcError | reports_pb2.SubmitReportResponse:
    channel = coordinator_channel(
        f"127.0.0.1:{federation.grpc_port}", identity or federation.identity, default_timeout=10
    )
    try:
        return reports_pb2_grpc.EvaluationStub(channel).SubmitMonthlyReport(request)
    except grpc.RpcError as error:
        return error
    finally:
        channel.close()


def _refusal(result: object) -> tuple[grpc.StatusCode, str | None, str]:
    assert isinstance(result, grpc.RpcError), f"expected a refusal, got {result}"
    return result.code(), error_code_of(result), result.details()  # type: ignore[attr-defined]


def test_bad_reports_are_refused_and_nothing_of_them_is_stored(
    federation: Federation, running: RunningCoordinator, tmp_path: Path
) -> None:
    signer = federation.signer
    good = sealed_report(_figures(), signer, "hackney", signer.key_id)

    unsigned = reports_pb2.SubmitReportRequest()
    unsigned.CopyFrom(good)
    unsigned.envelope.signature = b""
    impostor = Ed25519Signer(SigningKey.generate())
    wrongly_signed = sealed_report(_figures(), impostor, "hackney", signer.key_id)
    unknown_key = sealed_report(_figures(), impostor, "hackney", impostor.key_id)
    wrong_borough = sealed_report(_figures(), signer, "camden", signer.key_id)
    small = sealed_report(
        _figures(
            counts=(
                CountFigure("contacts.total", "all", 12),
                CountFigure("contacts.source", "public", 3),
            )
        ),
        signer,
        "hackney",
        signer.key_id,
    )
    ca.issue_with_key(federation.coordinator_dir / "ca", "hackney", tmp_path / "other-hackney")
    other_certificate = TlsIdentity.from_dir(tmp_path / "other-hackney")

    results = {
        "unsigned": _refusal(_send(federation, unsigned)),
        "wrongly signed": _refusal(_send(federation, wrongly_signed)),
        "unknown key": _refusal(_send(federation, unknown_key)),
        "wrong borough": _refusal(_send(federation, wrong_borough)),
        "unsuppressed": _refusal(_send(federation, small)),
        "other certificate": _refusal(_send(federation, good, other_certificate)),
    }
    first = _send(federation, good)
    replayed = _refusal(_send(federation, good))

    denied = grpc.StatusCode.PERMISSION_DENIED
    assert results["unsigned"][:2] == (denied, "bad-signature")
    assert results["wrongly signed"][:2] == (denied, "bad-signature")
    assert results["unknown key"][:2] == (denied, "unknown-key")
    assert results["wrong borough"][:2] == (denied, "wrong-borough")
    assert results["unsuppressed"][:2] == (grpc.StatusCode.INVALID_ARGUMENT, "invalid")
    assert "counts from 1 to 4 must be suppressed" in results["unsuppressed"][2]
    assert results["other certificate"][:2] == (denied, "forbidden")
    assert isinstance(first, reports_pb2.SubmitReportResponse)
    assert first.outcome == reports_pb2.SubmitReportResponse.STORED
    assert replayed[:2] == (denied, "replayed")
    assert _stored(federation)["2026-09"] == 12  # the good one, once; none of the bad ones


def test_reports_queue_while_the_coordinator_is_down_and_arrive_once_it_is_back(
    federation: Federation, running: RunningCoordinator
) -> None:
    receipts_before = len(_receipts(federation))
    captured = sealed_report(
        _figures(month="2026-06"), federation.signer, "hackney", federation.signer.key_id
    )
    assert not isinstance(_send(federation, captured), grpc.RpcError)
    stop(running.process)  # the module's coordinator is down from here on

    down = [
        node_cli(federation.node_config, "report", "--month", month, "--send")
        for month in ("2026-07", "2026-08")
    ]
    queued = node_cli(federation.node_config, "report", "--queue")
    with coordinator_process(federation.coordinator_dir, grpc_port=federation.grpc_port) as back:
        wait_healthy(back.grpc_port, federation.identity)
        delivered = node_cli(federation.node_config, "report", "--deliver")
        nothing = node_cli(federation.node_config, "report", "--deliver")
        replay = _refusal(_send(federation, captured))

    assert [d.returncode for d in down] == [3, 3]
    assert "stay queued" in down[1].stdout
    assert "2026-07" in queued.stdout and "queued" in queued.stdout
    assert delivered.returncode == 0, delivered.stdout + delivered.stderr
    lines = [line.strip() for line in delivered.stdout.splitlines() if "delivered" in line]
    assert [line.split(" ")[0] for line in lines] == ["2026-07", "2026-08"]  # oldest first
    assert "Nothing queued" in nothing.stdout
    assert replay[:2] == (grpc.StatusCode.PERMISSION_DENIED, "replayed")  # nonces outlive a restart
    receipts = _receipts(federation)[receipts_before:]
    assert receipts == ["2026-06", "2026-07", "2026-08"]  # none lost, none doubled
    stored = _stored(federation)
    assert {"2026-07", "2026-08"} <= set(stored)
    with Node.open(federation.node_config) as node, node.reading() as session:
        states = session.execute(
            select(EvaluationReportQueue.month, EvaluationReportQueue.state).where(
                EvaluationReportQueue.month.in_(["2026-07", "2026-08"])
            )
        ).all()
        attempts = session.scalar(
            select(func.sum(EvaluationReportQueue.attempts)).where(
                EvaluationReportQueue.month.in_(["2026-07", "2026-08"])
            )
        )
    assert sorted(states) == [("2026-07", "delivered"), ("2026-08", "delivered")]
    # 2026-07 was tried twice while the coordinator was down, 2026-08 (queued behind it) not at
    # all; each was sent once when it was back.
    assert attempts == 4
