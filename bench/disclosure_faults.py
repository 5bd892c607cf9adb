"""Exactly once under faults: disclosures between two real nodes, one of which is killed (SIGKILL)
at a random point of each and restarted.

Run: .venv/bin/python -m bench.disclosure_faults [--runs 200] [--seed 1]

Two boroughs on loopback, each a `mash-node serve --workers 1` process (web UI, federation gRPC,
and the courier that delivers disclosure messages until they are acknowledged): Lambeth asks,
Hackney holds a child on whom its police and health each hold an item. One Lambeth referral
about the child, checked with Hackney once, is asked about again and again. The people's steps
are taken by this process through the domain services on each node's store, as the web pages
take them: Lambeth's manager asks; Hackney's manager matches the child, police releases its item,
health declines its own (a signpost), and the manager sends the answer; or (`OUTCOMES`, drawn)
Hackney's manager declines the whole request, or Lambeth's withdraws it once Hackney has it.
Each node's serve process does the rest, and is what is killed.

Each run kills one node, the asker or the holder (drawn), in one phase of the disclosure (drawn):
while the request travels (from the manager's request being recorded) or while the answer or
the withdrawal travels (from the manager pressing send or withdraw). When it is killed (drawn):

- *delay*: after a random time, uniform from 0 to `DELAY_S` after the phase began (the courier
  looks for work every 0.5 s, so the kill falls before, during or after the delivery);
- *window*: at the moment that tests idempotency most. The victim's store is write-locked by
  this process (an ordinary SQLite `BEGIN IMMEDIATE`: no code of the node is changed for it),
  so the victim's next transaction waits. If the victim is the sender, the receiver takes the
  message and acknowledges it, the sender cannot record the acknowledgement, and is killed as
  soon as the receiver's store shows the message; after the restart it sends it again. If the
  victim is the receiver, its servicer waits mid-call with the message, and is killed there.

The victim is restarted at once and waited for (its web UI's first line, then gRPC health), and
the run waits until the disclosure has ended on both sides: the asker's request answered or
declined and the holder's answer acknowledged, or the withdrawal taken by the holder and its
acknowledgement recorded by the asker. The step the kill fell in is read from both
stores right after it (the victim is dead and the other side cannot go further without it).

Judged from the stores after each run: one request at the holder for the idempotency key, one
"received" step and one "answer-delivered" (or "cancelled") step there; at the asker one final
state (the one chosen), one "answered", "declined" (or "withdrawal-delivered") step, and the
items the holder released and signposted, each once (a *duplicate* is a request, step or item
recorded twice; a *loss* an item missing or a disclosure that did not end within `WAIT_S`); then
`mash-node audit verify` on both stores (the command's own code, in this process). Target
printed: 0 duplicates, 0 losses, 0 verify failures. `tests/federation/test_exactly_once.py` runs
a few runs of the same driver.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select as sql_select

from bench.import_throughput import OUT, format_table, machine_lines
from mash_common.tls import TlsIdentity
from node import cli
from node.disclosures import asking, holding
from node.federation.asking import HOLDS
from node.federation.local import LocalNode
from node.federation.peers import Peer, load_peers
from node.importing.service import import_files
from node.runtime import Node
from node.store.models import (
    DisclosureEvent,
    DisclosureItem,
    IncomingDisclosure,
    IncomingState,
    OutgoingDisclosure,
    OutgoingState,
    PersonRecord,
    ReceivedItem,
    ReleaseState,
)
from tests.federation.nodes import local_federation, red_referral_checked, wait_for_filters
from tests.helpers import ADMIN, MANAGER, professional, write_csv
from tests.mtls import channel_to, wait_serving

DIRECTORY = OUT / "disclosure-faults"
ASKER, HOLDER = "lambeth", "hackney"
BOROUGHS = [(HOLDER, "Hackney"), (ASKER, "Lambeth")]
REQUEST, ANSWER, WITHDRAWAL = "request", "answer", "withdrawal"  # the phase a kill falls in
DELAY, WINDOW = "delay", "window"  # how its moment is chosen
DELAY_S = 0.8  # a delay kill falls uniformly in this long after its phase began
WINDOW_WAIT_S = 3.0  # a window kill waits at most this long for the receiver to take the message
WAIT_S = 60.0  # a disclosure must end within this long after the restart
START_TIMEOUT_S = 60.0
# What ends each disclosure, drawn: the holder's answer, its refusal, or the asker's withdrawal
# (after the holder acknowledged the request, before it answers).
OUTCOMES = (("answered", 0.6), ("declined", 0.25), ("cancelled", 0.15))
CHILD = {
    "forenames": "Amara",
    "surname": "Mensah",
    "date_of_birth": "2016-05-09",
    "postcode": "E8 2LN",
    "nhs_number": "4857773456",
}
# The steps a kill can fall in, by phase, as read from both stores after it.
STEPS = {
    REQUEST: ("request not yet at the holder", "holder has it, asker not told", "acknowledged"),
    ANSWER: ("answer not yet at the asker", "asker has it, holder not told", "answer delivered"),
    WITHDRAWAL: (
        "withdrawal not yet at the holder",
        "holder has it, asker not told",
        "withdrawal delivered",
    ),
}


class Served:
    """One node's `mash-node serve` process, started, killed and restarted by the harness."""

    def __init__(self, local: LocalNode) -> None:
        self.local = local
        self.log = local.directory / "server.log"
        self.process: subprocess.Popen[str] | None = None
        self.identity = TlsIdentity.from_dir(local.directory / "data" / "keys")

    def start(self) -> float:
        """Start the process and wait until it serves the web UI and federation gRPC; returns
        how long that took."""
        started = time.perf_counter()
        with self.log.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "node.cli",
                    "--config",
                    str(self.local.config_path),
                    "serve",
                    "--workers",
                    "1",
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("Listening on http://"):
            self.kill()
            raise RuntimeError(f"{self.local.borough} did not start; see {self.log}")
        borough, port = self.local.borough, self.local.federation_port
        with channel_to(port, borough, self.identity) as channel:
            wait_serving(channel)
        return time.perf_counter() - started

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.wait()

    def wait(self) -> None:
        if self.process is not None:
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


class StoreLock:
    """This process holds a node's SQLite write lock (BEGIN IMMEDIATE), so the node's next write
    transaction waits in SQLite's busy handler until the lock is released or the node dies."""

    def __init__(self, local: LocalNode) -> None:
        self._path = local.directory / "data" / "node.db"
        self._connection: sqlite3.Connection | None = None

    def __enter__(self) -> StoreLock:
        self._connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        self._connection.execute("BEGIN IMMEDIATE")
        return self

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute("ROLLBACK")
            self._connection.close()
            self._connection = None

    def __exit__(self, *_exc: object) -> None:
        self.release()


@dataclass
class Run:
    """One disclosure, one kill, and what both stores say after it."""

    number: int
    victim: str
    phase: str
    mode: str
    outcome: str  # what the holder's manager chose: answered or declined
    step: str = ""  # where the kill fell, read from the stores
    restart_s: float = 0.0
    ended_s: float = 0.0  # from the restart until the disclosure ended on both sides
    asker_state: str = ""
    holder_state: str = ""
    duplicates: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    verify_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.losses or self.verify_failures)


class Harness:
    """Two served nodes, a referral checked once, and disclosures run one at a time under
    faults. Use as a context manager: every process it starts is stopped when the block ends."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.served: dict[str, Served] = {}
        self._restarted_at = 0.0
        self.nodes: dict[str, Node] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Harness:
        try:
            self._setup()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    def _setup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        locals_ = local_federation(
            self.root,
            BOROUGHS,
            extra_config="disclosures_per_peer_per_day = 100000\n",
        )
        self.locals = {local.borough: local for local in locals_}
        holder = self.locals[HOLDER]
        self._import(holder, "police", "P-1", "Domestic incident at the family home", "CAD-88")
        self._import(holder, "health", "H-1", "Attended A&E with a fractured wrist", "AE-12")
        for local in locals_:
            served = Served(local)
            self._stack.callback(served.stop)
            served.start()
            self.served[local.borough] = served
        wait_for_filters(locals_)
        for borough, local in self.locals.items():
            self.nodes[borough] = self._stack.enter_context(Node.open(local.config_path))
        self.peer_of_asker = _peer(self.locals[ASKER], HOLDER)
        self.asker_box = _peer(self.locals[HOLDER], ASKER).box_key
        with self.nodes[HOLDER].reading() as session:
            self.subject_id = session.scalar(
                sql_select(PersonRecord.subject_id).where(PersonRecord.agency_record_id == "P-1")
            )
        self.referral_id, self.person_id = self.checked_referral()

    def _import(self, local: LocalNode, agency: str, record: str, item: str, ref: str) -> None:
        people = write_csv(
            local.directory / f"{agency}-people.csv", [{"record_id": record, **CHILD}]
        )
        items = write_csv(
            local.directory / f"{agency}-items.csv",
            [
                {
                    "item_ref": ref,
                    "record_id": record,
                    "date": "2026-10-01",
                    "category": "Incident",
                    "summary": item,
                    "detail": f"{item}: full account",
                }
            ],
        )
        with Node.open(local.config_path) as node, node.unit_of_work(ADMIN) as session:
            import_files(session, ADMIN, agency, [people, items])

    def checked_referral(self) -> tuple[int, int]:
        """A Lambeth referral about the child, rated red, checked with Hackney (which holds)."""
        lambeth = self.nodes[ASKER]
        referral_id, held = red_referral_checked(
            lambeth, MANAGER, CHILD, postcode="SE11 5QY", account="New pupil, arrives hungry."
        )
        if held.get(HOLDER) != HOLDS:
            raise RuntimeError("Hackney's check did not find the child")
        with lambeth.reading() as session:
            person_id = asking.askable(session, referral_id)[0].person_id
        return referral_id, person_id

    # --- one run ---------------------------------------------------------------------------

    def run(
        self,
        number: int,
        victim: str | None = None,
        phase: str | None = None,
        mode: str | None = None,
        outcome: str | None = None,
    ) -> Run:
        """One disclosure with one kill (each choice drawn unless given). `phase` ANSWER is
        the withdrawal's delivery when the outcome is "cancelled"."""
        rng = self.rng
        outcomes, weights = zip(*OUTCOMES, strict=True)
        outcome = outcome or rng.choices(outcomes, weights)[0]
        phase = phase or rng.choice((REQUEST, ANSWER))
        run = Run(
            number,
            victim or rng.choice((ASKER, HOLDER)),
            WITHDRAWAL if phase == ANSWER and outcome == "cancelled" else phase,
            mode or rng.choice((DELAY, WINDOW)),
            outcome,
        )
        disclosure_id = self.ask()
        if run.phase == REQUEST:
            self._kill_during(run, disclosure_id)
        self._wait(run, "the request acknowledged", lambda: self._acknowledged(disclosure_id))
        key = self.outgoing(disclosure_id).idempotency_key
        if run.outcome == "cancelled":
            self.asker_withdraws(disclosure_id)
        else:
            self.holder_answers(key, run.outcome)
        if run.phase != REQUEST:
            self._kill_during(run, disclosure_id)
        self._wait(run, "the disclosure ended on both sides", lambda: self._ended(disclosure_id))
        run.ended_s = time.perf_counter() - self._restarted_at
        self._judge(run, disclosure_id)
        return run

    def _kill_during(self, run: Run, disclosure_id: int) -> None:
        """Kill the victim at the run's moment, read where the kill fell, restart it."""
        victim = self.served[run.victim]
        if run.mode == DELAY:
            time.sleep(self.rng.uniform(0, DELAY_S))
            victim.kill()
        else:
            sender = HOLDER if run.phase == ANSWER else ASKER
            with StoreLock(victim.local):
                if run.victim == sender:  # kill once the receiver has the message
                    _poll(lambda: self._step_index(run.phase, disclosure_id) >= 1, WINDOW_WAIT_S)
                else:  # the receiver's servicer waits mid-call for its store; kill it there
                    time.sleep(self.rng.uniform(0.6, 1.0))
                victim.kill()
        run.step = STEPS[run.phase][self._step_index(run.phase, disclosure_id)]
        run.restart_s = victim.start()
        self._restarted_at = time.perf_counter()

    def _step_index(self, phase: str, disclosure_id: int) -> int:
        """How far the phase's message has gone: 0 not at the receiver, 1 there but not
        acknowledged at the sender, 2 acknowledged."""
        request = self.outgoing(disclosure_id)
        held = self.incoming(request.idempotency_key)
        if phase == REQUEST:
            if held is None:
                return 0
            waiting = request.state in (OutgoingState.DRAFT, OutgoingState.SENT)
            return 1 if waiting else 2
        if phase == WITHDRAWAL:
            if held is None or held.state is not IncomingState.CANCELLED:
                return 0
            return 2 if request.cancel_delivered else 1
        if request.answer_digest is None:
            return 0
        return 2 if held is not None and held.answer_delivered_at is not None else 1

    def ask(self, referral: tuple[int, int] | None = None) -> int:
        """Lambeth's manager asks Hackney about the child of `referral` (referral and person
        ids; by default the harness's own referral); returns the request's id."""
        referral_id, person_id = referral or (self.referral_id, self.person_id)
        with self.nodes[ASKER].unit_of_work() as session:
            request = asking.request_disclosure(
                session,
                MANAGER,
                self.nodes[ASKER].config,
                self.peer_of_asker,
                referral_id,
                person_id,
                "Child new to the borough with signs of harm: history needed to judge risk",
                "Children Act 1989 s.47",
            )
            return request.id

    def asker_withdraws(self, disclosure_id: int) -> None:
        """Lambeth's manager withdraws the request (the courier tells Hackney)."""
        with self.nodes[ASKER].unit_of_work() as session:
            asking.cancel(session, MANAGER, disclosure_id, "The child has been found safe")

    def holder_answers(self, key: str, outcome: str) -> int:
        """Hackney's people answer the request (`holder_approves`, then `holder_sends`), or
        its manager declines it; returns the request's id at Hackney."""
        held = self.incoming(key)
        assert held is not None
        if outcome == "answered":
            self.holder_approves(held.id)
        self.holder_sends(held.id, outcome)
        return held.id

    def holder_approves(self, request_id: int) -> None:
        """Hackney's manager matches the child, police releases its item and health declines
        its own (a signpost)."""
        hackney = self.nodes[HOLDER]
        with hackney.unit_of_work() as session:
            holding.match(session, MANAGER, request_id, self.subject_id)
        with hackney.unit_of_work() as session:
            items = {
                item.agency_code: item.id
                for item in session.scalars(
                    sql_select(DisclosureItem).where(DisclosureItem.disclosure_id == request_id)
                )
            }
        with hackney.unit_of_work() as session:
            holding.decide_item(
                session,
                professional("police"),
                items["police"],
                ReleaseState.RELEASED,
                "Necessary to assess risk to the child",
                "Crime and Disorder Act 1998 s.115",
            )
        with hackney.unit_of_work() as session:
            holding.decide_item(
                session,
                professional("health"),
                items["health"],
                ReleaseState.SIGNPOSTED,
                "Clinical detail",
            )

    def holder_sends(self, request_id: int, outcome: str) -> None:
        """Hackney's manager presses send (the answer, or a refusal of the whole request)."""
        with self.nodes[HOLDER].unit_of_work() as session:
            if outcome == "declined":
                holding.decline(session, MANAGER, request_id, self.asker_box, "Not proportionate")
            else:
                holding.send_answer(
                    session, MANAGER, request_id, self.asker_box, "Ring us on red cases"
                )

    def _wait(self, run: Run, what: str, done: Callable[[], bool]) -> None:
        if not _poll(done, WAIT_S):
            run.losses.append(f"not within {WAIT_S:.0f} s: {what}")

    def _acknowledged(self, disclosure_id: int) -> bool:
        return self.outgoing(disclosure_id).state not in (OutgoingState.DRAFT, OutgoingState.SENT)

    def _ended(self, disclosure_id: int) -> bool:
        request = self.outgoing(disclosure_id)
        held = self.incoming(request.idempotency_key)
        if held is None or request.state not in asking.FINAL:
            return False
        if request.state is OutgoingState.CANCELLED:
            return request.cancel_delivered and held.state is IncomingState.CANCELLED
        return held.answer_delivered_at is not None

    def _judge(self, run: Run, disclosure_id: int) -> None:
        """Exactly once, from both stores; then `mash-node audit verify` on each."""
        request = self.outgoing(disclosure_id)
        run.asker_state = request.state.value
        key = request.idempotency_key
        with self.nodes[HOLDER].reading() as session:
            held = list(
                session.scalars(
                    sql_select(IncomingDisclosure).where(IncomingDisclosure.idempotency_key == key)
                )
            )
            steps = Counter(
                session.scalars(
                    sql_select(DisclosureEvent.step).where(
                        DisclosureEvent.incoming_id.in_([h.id for h in held])
                    )
                )
            )
        if len(held) > 1:
            run.duplicates.append(f"{len(held)} requests at the holder for one key")
        if not held:
            run.losses.append("no request at the holder")
        else:
            run.holder_state = held[0].state.value
        withdrawn = run.outcome == "cancelled"
        for step in ("received", "cancelled" if withdrawn else "answer-delivered"):
            if steps[step] > 1:
                run.duplicates.append(f"holder's step {step} {steps[step]} times")
            elif steps[step] == 0:
                run.losses.append(f"holder's step {step} missing")
        with self.nodes[ASKER].reading() as session:
            items = list(
                session.scalars(
                    sql_select(ReceivedItem).where(ReceivedItem.disclosure_id == disclosure_id)
                )
            )
            answered = session.scalar(
                sql_select(func.count())
                .select_from(DisclosureEvent)
                .where(
                    DisclosureEvent.outgoing_id == disclosure_id,
                    DisclosureEvent.step.in_(
                        ("withdrawal-delivered",) if withdrawn else ("answered", "declined")
                    ),
                )
            )
        if run.asker_state != run.outcome:
            run.losses.append(f"asker's request {run.asker_state}, the holder {run.outcome} it")
        if run.holder_state != run.outcome:
            run.losses.append(f"holder's request {run.holder_state}, not {run.outcome}")
        if answered != 1:
            (run.duplicates if (answered or 0) > 1 else run.losses).append(
                f"asker recorded the {'withdrawal' if withdrawn else 'answer'} delivered "
                f"{answered} times"
            )
        wanted = Counter([(True, "CAD-88"), (False, "AE-12")] if run.outcome == "answered" else [])
        got = Counter((item.released, item.reference) for item in items)
        for item, count in (got - wanted).items():
            run.duplicates.append(f"item {item} {count} more time(s) than released")
        for item, count in (wanted - got).items():
            run.losses.append(f"item {item} missing {count} time(s)")
        for borough, local in self.locals.items():
            status, said = audit_verify(local.config_path)
            if status != 0:
                run.verify_failures.append(f"{borough}: exit {status}: {said}")

    def outgoing(self, disclosure_id: int) -> OutgoingDisclosure:
        with self.nodes[ASKER].reading() as session:
            request = session.get_one(OutgoingDisclosure, disclosure_id, populate_existing=True)
            session.expunge(request)
            return request

    def incoming(self, key: str) -> IncomingDisclosure | None:
        with self.nodes[HOLDER].reading() as session:
            held = session.scalar(
                sql_select(IncomingDisclosure).where(IncomingDisclosure.idempotency_key == key)
            )
            if held is not None:
                session.expunge(held)
            return held

    def incoming_delivered(self, request_id: int) -> bool:
        """Whether Hackney has recorded its answer to request `request_id` acknowledged."""
        with self.nodes[HOLDER].reading() as session:
            held = session.get_one(IncomingDisclosure, request_id, populate_existing=True)
            return held.answer_delivered_at is not None

    def totals(self) -> tuple[int, int]:
        """Requests made at the asker and received at the holder, over every run."""
        with self.nodes[ASKER].reading() as session:
            made = session.scalar(sql_select(func.count()).select_from(OutgoingDisclosure)) or 0
        with self.nodes[HOLDER].reading() as session:
            held = session.scalar(sql_select(func.count()).select_from(IncomingDisclosure)) or 0
        return made, held


def audit_verify(config: Path) -> tuple[int, str]:
    """`mash-node audit verify` for `config`, run in this process: its exit status and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["--config", str(config), "audit", "verify"])
    return status, (err.getvalue() or out.getvalue()).strip().splitlines()[0]


def _peer(local: LocalNode, borough: str) -> Peer:
    return next(p for p in load_peers(local.directory / "peers.toml") if p.borough == borough)


def _poll(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@contextlib.contextmanager
def harness(root: Path = DIRECTORY, seed: int = 1) -> Iterator[Harness]:
    with Harness(root, seed) as opened:
        yield opened


def report(runs: list[Run], totals: tuple[int, int], elapsed_s: float) -> list[str]:
    """The figures: kills by side and step, final states, duplicates, losses, verify failures."""
    lines = []
    by_step = Counter((r.victim, r.phase, r.step) for r in runs)
    rows = []
    for phase in (REQUEST, ANSWER, WITHDRAWAL):
        for step in STEPS[phase]:
            rows.append(
                (
                    f"{phase}: {step}",
                    by_step[(ASKER, phase, step)],
                    by_step[(HOLDER, phase, step)],
                )
            )
    rows.append(
        (
            "all",
            sum(1 for r in runs if r.victim == ASKER),
            sum(1 for r in runs if r.victim == HOLDER),
        )
    )
    lines.append(f"Kills by side and by the step they fell in ({len(runs)} runs):")
    lines.append(format_table(("step", "asker killed", "holder killed"), rows))
    modes = Counter(r.mode for r in runs)
    lines.append(f"  moments: {modes[DELAY]} after a random delay, {modes[WINDOW]} at the window")
    finals = Counter((r.asker_state, r.holder_state) for r in runs)
    lines.append(
        "Final states (asker / holder): "
        + ", ".join(f"{a} / {h}: {n}" for (a, h), n in sorted(finals.items()))
    )
    made, held = totals
    lines.append(f"Requests made at the asker: {made}; received at the holder: {held}")
    duplicates = sum(len(r.duplicates) for r in runs)
    losses = sum(len(r.losses) for r in runs)
    failures = sum(len(r.verify_failures) for r in runs)
    lines.append(f"Duplicates: {duplicates}; losses: {losses}; verify failures: {failures}")
    restart = [r.restart_s for r in runs]
    ended = [r.ended_s for r in runs]
    if runs:
        lines.append(
            f"Restart (start to gRPC health): median {statistics.median(restart):.2f} s, "
            f"max {max(restart):.2f} s; from the restart to the disclosure's end: median "
            f"{statistics.median(ended):.2f} s, max {max(ended):.2f} s; {elapsed_s:.0f} s in all"
        )
    for run in runs:
        for problem in run.duplicates + run.losses + run.verify_failures:
            lines.append(f"  run {run.number} ({run.victim} {run.phase} {run.mode}): {problem}")
    ok = made == held == len(runs) and not (duplicates or losses or failures)
    lines.append(
        "Target (every disclosure final on both sides, 0 duplicates, 0 losses, verify intact): "
        + ("met" if ok else "NOT met")
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.disclosure_faults", description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()), flush=True)
    started = time.perf_counter()
    runs: list[Run] = []
    with harness(DIRECTORY, args.seed) as opened:
        for number in range(1, args.runs + 1):
            run = opened.run(number)
            runs.append(run)
            flag = (
                ""
                if run.ok
                else "  <- " + "; ".join(run.duplicates + run.losses + run.verify_failures)
            )
            print(
                f"run {number:4d}: {run.victim:8s} killed, {run.phase:7s} {run.mode:6s} "
                f"at '{run.step}'; {run.asker_state}/{run.holder_state}{flag}",
                flush=True,
            )
        totals = opened.totals()
    print()
    lines = report(runs, totals, time.perf_counter() - started)
    print("\n".join(lines))
    return 0 if lines[-1].endswith("met") and "NOT" not in lines[-1] else 1


if __name__ == "__main__":
    sys.exit(main())
