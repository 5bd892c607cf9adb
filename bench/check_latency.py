"""Existence checks across real node processes: latency, the floor it cannot beat, and how it grows
with the number of peers; the holder's evaluation rate; the asker's memory.

    .venv/bin/python -m bench.check_latency [--peers 8] [--scan 1,2,4,8,16,32] [--keys 1000000]
                                            [--checks 300]

Every peer is a `mash-node serve` process on loopback whose published index holds `--keys` match
keys (a template store of random keys, copied, plus the probes' keys evaluated under the peer's own
OPRF key, so about half the checks hit somewhere). The asker's node is served too (as every
node of a federation is), and its checks run in this process as the web UI and `mash-node check`
run them (`Federation.open`, `Asker.check`): one blinding a check, one signed
request a peer, in parallel, each answer's proof verified and looked up in the peer's filter.

The floor is what a check cannot take less than, measured in the same run: the round trip of one
small call to every peer at once over the same mutual-TLS channels (NodeInfo), plus the ristretto255
scalar multiplications the check needs (the asker's blinding, and per peer the holder's
evaluation and proof and the asker's verification and unblinding), timed bare with rbcl and shared
over the machine's cores.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np
import rbcl
from sqlalchemy import insert

from bench.import_throughput import OUT, format_table, machine_lines, status_mb
from mash_common.heap import freeze_what_started
from node.federation import index, voprf
from node.federation.asking import HOLDS, Why
from node.federation.local import make_local_federation
from node.federation.runtime import Federation
from node.match_key_set import note_current
from node.matching.keys import Identity
from node.referrals.borough_checks import identity_keys
from node.runtime import Node
from node.store.models import MatchKey, OprfIndexEntry
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc
from tests.federation.nodes import free_port, serving  # the tests' process handling

DIRECTORY = OUT / "checks"
PROBES = 200  # identities asked about; half of them are held by some peer


def _probes() -> list[Identity]:
    rng = random.Random(7)
    forenames = ["Amara", "Kwame", "Zofia", "Liam", "Aisha", "Tomasz", "Mei", "Oluwaseun", "Ruby"]
    surnames = ["Okafor", "Nowak", "Campbell", "Begum", "Silva", "Murphy", "Chen", "Adeyemi"]
    probes = []
    for number in range(PROBES):
        born = f"20{rng.randint(5, 22):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        probes.append(
            Identity.from_fields(
                rng.choice(forenames),
                f"{rng.choice(surnames)}{number}",
                born,
                f"E{rng.randint(1, 9)} {rng.randint(1, 9)}AB",
                None,
            )
        )
    return probes


def _template(keys: int) -> Path:
    """A store whose match keys (random) are all in its index, and the index's filter."""
    folder = DIRECTORY / f"template-{keys}"
    if (folder / "ready").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    [local] = make_local_federation(
        folder,
        [("template", "Template")],
        agencies=["police"],
        web_ports=[0],
        federation_ports=[0],
    )
    with Node.initialise(local.config_path) as node:
        with node.unit_of_work() as session:
            note_current(session)  # the keys are of this release's set, as an import records
        rng = np.random.default_rng(11)
        for start in range(0, keys, 200_000):
            count = min(200_000, keys - start)
            values = rng.bytes(16 * count)
            prfs = rng.bytes(8 * count)
            with node.unit_of_work() as session:
                session.execute(
                    insert(MatchKey),
                    [
                        {"key_value": values[i * 16 : i * 16 + 16], "record_id": start + i + 1}
                        for i in range(count)
                    ],
                )
                session.execute(
                    insert(OprfIndexEntry),
                    [
                        {
                            "epoch": 1,
                            "key_value": values[i * 16 : i * 16 + 16],
                            "prf": prfs[i * 8 : i * 8 + 8],
                        }
                        for i in range(count)
                    ],
                )
    with sqlite3.connect(folder / "template" / "data" / "node.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copies take the file alone
    (folder / "ready").write_text("ok")
    return folder


def build(peers: int, keys: int) -> tuple[list, Path]:  # type: ignore[type-arg]
    """A federation of `peers` holders and one asker, each holder's index from the template."""
    root = DIRECTORY / f"peers-{peers}-keys-{keys}"
    shutil.rmtree(root, ignore_errors=True)
    template = _template(keys)
    boroughs = [("asker", "Asker")] + [(f"peer-{n:02d}", f"Peer {n}") for n in range(peers)]
    nodes = make_local_federation(
        root,
        boroughs,
        agencies=["police"],
        web_ports=[free_port() for _ in boroughs],
        federation_ports=[free_port() for _ in boroughs],
        extra_config="refresh_seconds = 86400\nevaluations_per_peer_per_day = 10000000\n",
    )
    probes = _probes()
    for number, local in enumerate(nodes):
        store = local.directory / "data" / "node.db"
        if local.borough != "asker":
            shutil.copyfile(template / "template" / "data" / "node.db", store)
            with sqlite3.connect(store) as db:  # the template's log was signed by its own key
                db.execute("DELETE FROM audit_checkpoints")
                db.execute("DELETE FROM audit_entries")
                db.execute("DELETE FROM audit_head")
        with Node.initialise(local.config_path) as node:
            if local.borough == "asker":
                continue
            held = probes[number % 2 :: 2][: PROBES // 4]  # each peer holds some probes
            rows = []
            for identity in held:
                for key in identity_keys([identity])[:1]:  # one key of each: a hit
                    rows.append(
                        (key.value, voprf.evaluate(node.keys.oprf, key.value, voprf.Mode.VOPRF))
                    )
            with node.unit_of_work() as session:
                session.execute(
                    insert(MatchKey),
                    [
                        {"key_value": v, "record_id": 10_000_000 + i}
                        for i, (v, _) in enumerate(rows)
                    ],
                )
                session.execute(
                    insert(OprfIndexEntry),
                    [{"epoch": 1, "key_value": v, "prf": p[:8]} for v, p in rows],
                )
            index.refresh(node)
    return nodes, root


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_idle(pids: list[int], timeout_s: float = 300.0) -> None:
    """Until the peers have finished starting (each refreshes its index as it starts: with a
    million keys that takes the cores for a while): less than 5 % of a core each over a second.
    Measured before this, a check and its floor would both carry the peers' start-up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = [_cpu_seconds(pid) for pid in pids]
        time.sleep(1.0)
        if all(_cpu_seconds(pid) - used < 0.05 for pid, used in zip(pids, before, strict=True)):
            return
    raise SystemExit(f"the peers were still busy after {timeout_s:.0f} s")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _bare_mult_seconds(samples: int = 2000) -> float:
    scalar = rbcl.crypto_core_ristretto255_scalar_random()
    point = rbcl.crypto_scalarmult_ristretto255_base(scalar)
    started = time.perf_counter()
    for _ in range(samples):
        rbcl.crypto_scalarmult_ristretto255(scalar, point)
    return (time.perf_counter() - started) / samples


def measure(peers: int, keys: int, checks: int) -> dict[str, float]:
    nodes, _root = build(peers, keys)
    asker_local = nodes[0]
    # The asker serves too, as every node of a federation does: a peer that cannot reach one of
    # its peers retries its upkeep round (filters, index) every few seconds, which would run
    # beside the checks measured.
    with serving(nodes) as served, Node.open(asker_local.config_path) as asker:
        federation = Federation.open(asker)
        try:
            _wait_until_idle([s.process.pid for s in served.values()])
            results = federation.asker.refresh_filters()
            missing = [b for b, r in results.items() if r.startswith("not refreshed")]
            if missing:
                raise SystemExit(f"filters not fetched: {missing} ({results})")
            freeze_what_started()  # as `mash-node serve` does once it has started
            probes = _probes()
            why = Why("BENCH-0001", "latency benchmark", asker.keys.pseudonym("bench"))
            for identity in probes[:10]:  # warm the channels
                federation.asker.check(identity_keys([identity]), why)
            latencies, floors, hits, key_counts = [], [], 0, []
            mult = _bare_mult_seconds()
            channels = [federation.asker.channel(peer) for peer in federation.peers]
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(4, peers))
            started_all = time.perf_counter()
            for number in range(checks):
                keys_ = identity_keys([probes[number % len(probes)]])
                started = time.perf_counter()
                answers = federation.asker.check(keys_, why)
                latencies.append(time.perf_counter() - started)
                hits += sum(1 for a in answers if a.outcome == HOLDS)
                key_counts.append(len(keys_))
                assert all(a.outcome in ("holds", "holds-nothing") for a in answers), answers
                started = time.perf_counter()
                list(
                    pool.map(
                        lambda ch: node_pb2_grpc.NodeInfoStub(ch).GetNodeInfo(
                            node_pb2.GetNodeInfoRequest(), timeout=5
                        ),
                        channels,
                    )
                )
                round_trip = time.perf_counter() - started
                n = len(keys_)
                # The asker blinds n; per peer the holder evaluates n and proves with n + 3
                # (ComputeCompositesFast), and the asker verifies with 2n + 4 and unblinds n.
                multiplications = n + peers * ((n + n + 3) + (2 * n + 4 + n))
                floors.append(round_trip + mult * multiplications / (os.cpu_count() or 1))
            elapsed = time.perf_counter() - started_all
            # The asker's served node holds the peers' filters as every node does (its upkeep
            # fetched them): its peak. And this process's now (its peak is the template build).
            node_peak_mb = status_mb("VmHWM", served["asker"].process.pid)
            memory_mb = status_mb("VmRSS")
        finally:
            federation.close()
    return {
        "peers": peers,
        "keys_per_check": statistics.mean(key_counts),
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "floor_p50_ms": _percentile(floors, 0.50) * 1000,
        "floor_p99_ms": _percentile(floors, 0.99) * 1000,
        "hits": hits,
        "evaluations_per_s": sum(key_counts) * peers / elapsed,
        "asker_resident_mb": memory_mb,
        "node_peak_mb": node_peak_mb,
        "mult_us": mult * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check_latency", description=__doc__)
    parser.add_argument("--peers", type=int, default=8)
    parser.add_argument("--scan", default="1,2,4,8,16,32")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=300)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()))
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    main_run = measure(args.peers, args.keys, args.checks)
    print(
        f"\nOne asker, {args.peers} peers, each index {args.keys:,} match keys, "
        f"{args.checks} checks (about {main_run['keys_per_check']:.1f} keys each):"
    )
    print(
        format_table(
            ("", "p50 ms", "p99 ms"),
            [
                ("check", round(main_run["p50_ms"], 1), round(main_run["p99_ms"], 1)),
                (
                    "floor (RTT + bare scalar mults)",
                    round(main_run["floor_p50_ms"], 1),
                    round(main_run["floor_p99_ms"], 1),
                ),
            ],
        )
    )
    print(
        f"  p99 / floor p99: {main_run['p99_ms'] / main_run['floor_p99_ms']:.2f} "
        f"(target <= 2); p50 target 20 ms, p99 target 60 ms"
    )
    print(
        f"  a bare scalar multiplication: {main_run['mult_us']:.0f} us; answers that hit: "
        f"{int(main_run['hits'])}"
    )
    print(
        f"  evaluations served by the holders: {main_run['evaluations_per_s']:,.0f} a second "
        f"(all {args.peers} together, one check at a time)"
    )
    print(
        f"  a served node holding {args.peers} peers' filters: {main_run['node_peak_mb']:.0f} MB "
        f"peak resident; the asker here, after the checks: {main_run['asker_resident_mb']:.0f} MB"
    )
    scan = [int(n) for n in args.scan.split(",") if n.strip()]
    rows = []
    for peers in scan:
        run = (
            main_run
            if peers == args.peers
            else measure(peers, args.keys, max(100, args.checks // 3))
        )
        rows.append(
            (peers, round(run["p50_ms"], 1), round(run["p99_ms"], 1), round(run["floor_p99_ms"], 1))
        )
    print("\nBy number of peers (target: p99 <= 60 ms up to 32):")
    print(format_table(("peers", "p50 ms", "p99 ms", "floor p99 ms"), rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
