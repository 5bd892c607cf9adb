"""Disclosure between boroughs on loopback: how soon the answer is at the asking hub once the
holding hub's manager presses send, against the floor of one message on the same channel; and
how many disclosures a minute one holder sees through with 20 requests in flight.

Run: .venv/bin/python -m bench.disclosure_latency [--runs 100] [--courier-runs 30]
                                                 [--concurrent 20] [--seconds 60]

The nodes are those of `bench/disclosure_faults.py`, nothing killed: Lambeth (asks) and Hackney
(holds a child on whom its police and health each hold an item), each a `mash-node serve
--workers 1` process; the people's steps are taken in this process through the domain services
on each node's store, and what the web views do after them too: the request and the answer
pages deliver what they recorded at once (`Courier.deliver`, `Courier.deliver_answer`, from the
web worker), which this process does from a `Federation` opened on the same node; the serve
process's courier delivers anything left (it looks for work every `POLL_S`).

(a) **Send to arrival**, `--runs` times: Lambeth asks and Hackney acknowledges; Hackney's manager
matches the child, police releases its item and health declines its own (outside the clock).
The clock starts as the manager presses send: the answer is sealed and recorded (one
transaction, `holding.send_answer`) and delivered at once; it stops when the delivery returns,
that is when Lambeth has opened, stored and acknowledged the answer (its request is answered,
checked) and Hackney has recorded the acknowledgement. The same is then measured
`--courier-runs` times without the delivery at once, as when the web worker's attempt fails or
another process records the answer: the serve process's courier finds it, and the clock stops
when Lambeth's store shows the request answered (polled every 2 ms). The manager presses send a
random time (0 to `POLL_S`) after the request was approved, so the courier's last look falls
anywhere before it (without it, the runs' rhythm locks to the courier's).
**Floors**, measured in the same run between the runs, on the same mutual-TLS channel as the
answer (Hackney's to Lambeth): a NodeInfo call (unsigned, no store), and the same signed answer
sent again (Lambeth checks the envelope, its signature and nonce, and recognises the answer:
one transaction), the least any disclosure message costs. Ratios of p50 and p99 are printed.

(b) **Throughput**: `--concurrent` Lambeth referrals about the child, each checked with Hackney,
and one lane a referral, each in its own thread, for `--seconds`: ask (delivered at once), wait
for Hackney's acknowledgement, Hackney's manager matches, police and health decide, the manager
sends (delivered at once), wait until Lambeth has the answer; then again. Disclosures completed
a minute, and each one's time from the request to the answer, p50/p99; the same with one lane
for a third of the time as the baseline; CPU seconds of each process over wall time (this
process does both hubs' people's work and the at-once deliveries). The floor of the holder's
store: one-row commits a second on a bare SQLite file (WAL, synchronous=FULL) beside it, over
the `HOLDER_COMMITS` write transactions a disclosure takes there. Then, over every disclosure of
the run, the requests made and held and any answered one whose items did not arrive exactly
once (the page's delivery at once and the serve process's courier may both send a message).
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bench.disclosure_faults import ASKER, HOLDER, Harness, _poll
from bench.import_throughput import OUT, format_table, machine_lines
from node.disclosures import asking, holding, wire
from node.federation.courier import POLL_S
from node.federation.runtime import Federation
from node.store.models import IncomingDisclosure, OutgoingDisclosure, OutgoingState, ReceivedItem
from protos.mash.federation.v1 import disclosure_pb2_grpc, node_pb2, node_pb2_grpc

DIRECTORY = OUT / "disclosure-latency"
WAIT_S = 30.0
# The holder's write transactions in one disclosure: the request received, the match, two
# agencies' decisions, the send, the delivery recorded.
HOLDER_COMMITS = 6


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Bench:
    """The harness's two nodes, with a Federation on each in this process (the web worker's
    deliveries at once)."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.asker = Federation.open(harness.nodes[ASKER])
        self.holder = Federation.open(harness.nodes[HOLDER])
        peer = self.holder.peer(ASKER)
        assert peer is not None
        self.channel = self.holder.asker.channel(peer)
        self._states = sqlite3.connect(
            f"file:{harness.locals[ASKER].directory / 'data' / 'node.db'}?mode=ro",
            uri=True,
            check_same_thread=False,
        )

    def close(self) -> None:
        self._states.close()
        self.asker.close()
        self.holder.close()

    def approved(self, referral: tuple[int, int] | None = None) -> tuple[int, int]:
        """A request asked, acknowledged and approved at Hackney: (asker's id, holder's id)."""
        disclosure_id = self.h.ask(referral)
        self.asker.courier.deliver(asking.REQUEST, disclosure_id)
        if not _poll(lambda: self._acknowledged(disclosure_id), WAIT_S):
            raise RuntimeError(f"request {disclosure_id} not acknowledged within {WAIT_S} s")
        held = self.h.incoming(self.h.outgoing(disclosure_id).idempotency_key)
        assert held is not None
        self.h.holder_approves(held.id)
        return disclosure_id, held.id

    def send_at_once(self, held_id: int) -> None:
        """The manager presses send: recorded, then delivered at once (the answer view)."""
        self.h.holder_sends(held_id, "answered")
        self.holder.courier.deliver_answer(held_id)

    def state(self, disclosure_id: int) -> str:
        row = self._states.execute(
            "SELECT state FROM outgoing_disclosures WHERE id = ?", (disclosure_id,)
        ).fetchone()
        return str(row[0])

    def _acknowledged(self, disclosure_id: int) -> bool:
        return self.state(disclosure_id) not in (OutgoingState.DRAFT.value, "sent")

    def wait_answered(self, disclosure_id: int, every_s: float = 0.002) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.state(disclosure_id) != OutgoingState.ANSWERED.value:
            if time.monotonic() > deadline:
                raise RuntimeError(f"request {disclosure_id} not answered within {WAIT_S} s")
            time.sleep(every_s)

    def node_info(self) -> float:
        started = time.perf_counter()
        node_pb2_grpc.NodeInfoStub(self.channel).GetNodeInfo(
            node_pb2.GetNodeInfoRequest(), timeout=5
        )
        return time.perf_counter() - started

    def answer_again(self, held_id: int) -> float:
        """The same answer, freshly signed, sent again over the same channel (a repeat)."""
        hackney = self.h.nodes[HOLDER]
        with hackney.reading() as session:
            request = session.get_one(IncomingDisclosure, held_id)
            payload = holding.answer_payload(request)
            reference = request.referral_reference
        started = time.perf_counter()
        signed = wire.signed(
            hackney.keys,
            HOLDER,
            payload,
            referral_reference=reference,
            purpose="answer to Lambeth's disclosure request",
            user_pseudonym=hackney.keys.pseudonym("manager"),
        )
        ack = disclosure_pb2_grpc.DisclosureStub(self.channel).Answer(signed, timeout=5)
        elapsed = time.perf_counter() - started
        assert ack.repeated, ack
        return elapsed


def send_to_arrival(bench: Bench, runs: int, courier_runs: int) -> dict[str, list[float]]:
    """(a): the clock from the manager's send to the answer at the asker, and the floors."""
    times: dict[str, list[float]] = {"at once": [], "courier": [], "nodeinfo": [], "again": []}
    rng = random.Random(5)
    for number in range(runs + courier_runs):
        disclosure_id, held_id = bench.approved()
        if number >= runs:  # the courier's last look was at a moment of its own, not the run's
            time.sleep(rng.uniform(0, POLL_S))
        bench.node_info()  # the channel is warm before either clock
        started = time.perf_counter()
        if number < runs:
            bench.send_at_once(held_id)
            elapsed = time.perf_counter() - started
            if bench.state(disclosure_id) != OutgoingState.ANSWERED.value:
                raise RuntimeError(f"request {disclosure_id}: delivered, yet not answered")
            times["at once"].append(elapsed)
        else:
            bench.h.holder_sends(held_id, "answered")
            bench.wait_answered(disclosure_id)
            times["courier"].append(time.perf_counter() - started)
        _poll(lambda held_id=held_id: bench.h.incoming_delivered(held_id), WAIT_S)
        times["nodeinfo"].append(bench.node_info())
        times["again"].append(bench.answer_again(held_id))
    return times


def throughput(
    bench: Bench, referrals: list[tuple[int, int]], seconds: float
) -> tuple[int, list[float], float]:
    """(b): lanes asking and answering in a closed loop for `seconds`; returns the disclosures
    completed within it, each one's time from request to answer, and the wall time."""
    stop = threading.Event()
    lock = threading.Lock()
    done: list[float] = []
    failures: list[BaseException] = []
    started = time.perf_counter()

    def lane(referral: tuple[int, int]) -> None:
        try:
            while not stop.is_set():
                began = time.perf_counter()
                disclosure_id, held_id = bench.approved(referral)
                bench.send_at_once(held_id)
                bench.wait_answered(disclosure_id, every_s=0.05)
                ended = time.perf_counter()
                if ended - started <= seconds:
                    with lock:
                        done.append(ended - began)
        except BaseException as failure:  # reported after the run
            failures.append(failure)
            stop.set()

    threads = [threading.Thread(target=lane, args=(r,), daemon=True) for r in referrals]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=WAIT_S * 2)
    if failures:
        raise RuntimeError(f"a lane failed: {failures[0]!r}") from failures[0]
    return len(done), done, seconds


def bare_commits_per_s(directory: Path, commits: int = 300) -> float:
    """One-row write transactions a second on a bare SQLite file beside the nodes' stores (WAL,
    synchronous=FULL, as the node's store): the floor of every step's commit."""
    path = directory / "bare-commits.sqlite"
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE t (x INTEGER)")
        started = time.perf_counter()
        for number in range(commits):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t VALUES (?)", (number,))
            connection.execute("COMMIT")
        return commits / (time.perf_counter() - started)
    finally:
        connection.close()
        path.unlink(missing_ok=True)


def exactly_once(harness: Harness) -> tuple[int, int, int]:
    """Over every disclosure of the run: requests made at the asker, requests held at the
    holder, and answered requests whose items are not the released item and the signpost once
    each (a duplicate or a loss under the concurrent deliveries)."""
    with harness.nodes[ASKER].reading() as session:
        made = session.scalar(select(func.count()).select_from(OutgoingDisclosure)) or 0
        items = Counter(
            session.execute(
                select(ReceivedItem.disclosure_id).join(
                    OutgoingDisclosure, OutgoingDisclosure.id == ReceivedItem.disclosure_id
                )
            ).scalars()
        )
        answered = list(
            session.scalars(
                select(OutgoingDisclosure.id).where(
                    OutgoingDisclosure.state == OutgoingState.ANSWERED
                )
            )
        )
    with harness.nodes[HOLDER].reading() as session:
        held = session.scalar(select(func.count()).select_from(IncomingDisclosure)) or 0
    wrong = sum(1 for id_ in answered if items[id_] != 2)
    return made, held, wrong


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(
    bench: Bench, measure: Callable[[], tuple[int, list[float], float]]
) -> tuple[tuple[int, list[float], float], dict[str, float]]:
    """`measure()`'s result and each process's CPU seconds over wall seconds meanwhile."""
    pids = {
        borough: served.process.pid
        for borough, served in bench.h.served.items()
        if served.process is not None
    }
    before = {borough: _cpu_of(pid) for borough, pid in pids.items()}
    own, wall = _own_cpu(), time.perf_counter()
    result = measure()
    wall = time.perf_counter() - wall
    cores = {f"{b} serve": (_cpu_of(pid) - before[b]) / wall for b, pid in pids.items()}
    cores["this process"] = (_own_cpu() - own) / wall
    return result, cores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.disclosure_latency", description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--courier-runs", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()), flush=True)
    with Harness(DIRECTORY, seed=1) as harness:
        bench = Bench(harness)
        try:
            for _ in range(5):  # warm both nodes and the channels, outside every clock
                disclosure_id, held_id = bench.approved()
                bench.send_at_once(held_id)
            times = send_to_arrival(bench, args.runs, args.courier_runs)
            print("\n(a) From the manager's send to the answer at the asker, loopback, ms:")
            rows = []
            floor = {q: percentile(times["again"], q) for q in (0.5, 0.99)}
            for label, key in (
                (f"send, delivered at once ({args.runs} runs)", "at once"),
                (f"send, left to the serve process's courier ({args.courier_runs})", "courier"),
                ("floor: the same signed answer again", "again"),
                ("floor: NodeInfo round trip", "nodeinfo"),
            ):
                values = times[key]
                if not values:
                    continue
                p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
                rows.append(
                    (
                        label,
                        round(p50 * 1000, 1),
                        round(p99 * 1000, 1),
                        f"{p50 / floor[0.5]:.1f}",
                        f"{p99 / floor[0.99]:.1f}",
                    )
                )
            print(format_table(("", "p50", "p99", "p50/floor", "p99/floor"), rows))
            print(f"  the courier looks for work every {POLL_S * 1000:.0f} ms")
            print(f"\n(b) {args.concurrent} requests in flight for {args.seconds:.0f} s:")
            referrals = [harness.checked_referral() for _ in range(args.concurrent)]
            rows = []
            for lanes, seconds in ((1, args.seconds / 3), (args.concurrent, args.seconds)):
                (count, each, wall), cores = measured(
                    bench,
                    lambda lanes=lanes, seconds=seconds: throughput(
                        bench, referrals[:lanes], seconds
                    ),
                )
                rows.append(
                    (
                        lanes,
                        round(wall),
                        count,
                        round(count / wall * 60, 1),
                        round(statistics.median(each) * 1000) if each else "-",
                        round(percentile(each, 0.99) * 1000) if each else "-",
                        ", ".join(f"{k} {v:.2f}" for k, v in cores.items()),
                    )
                )
            print(
                format_table(
                    ("in flight", "s", "completed", "a minute", "p50 ms", "p99 ms", "cores"),
                    rows,
                )
            )
            print(f"  {args.concurrent} in flight over one: {rows[1][3] / rows[0][3]:.1f} times")
            bare = bare_commits_per_s(DIRECTORY)
            print(
                f"  a bare SQLite commit (WAL, synchronous=FULL) beside the stores: {bare:,.0f} a "
                f"second; the holder commits {HOLDER_COMMITS} write transactions a disclosure, so "
                f"{bare * 60 / HOLDER_COMMITS:,.0f} a minute if each cost only that; measured "
                f"{rows[1][3] / (bare * 60 / HOLDER_COMMITS):.2f} of it"
            )
            made, held, wrong = exactly_once(harness)
            print(
                f"  over the whole run: {made:,} requests made, {held:,} held at the holder, "
                f"{wrong} answered requests without their two items exactly once"
            )
            if made != held or wrong:
                return 1
        finally:
            bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
