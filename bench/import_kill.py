"""Import kill: `mash-node import` killed by SIGKILL mid-way, again and again.

Run: .venv/bin/python -m bench.import_kill [--runs 20] [--records 200000] [--seed 1]

A persons file of `--records` synthetic people (`node.synthetic.extracts.iter_person_rows`, seed
1: about 15 MB at 200,000, far above the size from which the import prepares in a worker process)
is written once to `bench/out/import-kill/`. A whole import of it into a fresh node is timed
first, from its prepare worker's start to its end. Then a fresh node (SQLite store, the police
agency, nothing imported) gets `--runs` imports of it, each `mash-node import --agency police` as
its own process: the run waits until the prepare worker has started, lets the import work for a
random time (uniform, from 0 to 90 % of the whole import's time), kills it with SIGKILL, and then
(runs go on until `--runs` kills have landed before the import committed, at most twice that):

- polls `/proc` every 10 ms until none of the processes the import had started (the prepare
  worker, the multiprocessing resource tracker) is left, and reports how long that took (a
  zombie counts as ended: it holds no memory and runs nothing);
- counts the police records and the import runs in the store: all-or-nothing means none of
  either (or every record and one run, had the import committed before the kill, after which the
  node is made afresh for the next run);
- runs `mash-node audit verify` (exit status 0: the log intact, with any checkpoint the killed
  import filed but never committed).

Targets printed: every run all-or-nothing, `verify` intact, no process left after 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.import_throughput import AS_OF, BOROUGH, OUT, PERSON_COLUMNS, format_table, machine_lines

WORK_DIR = OUT / "import-kill"
PASSWORD = "kill test pass phrase"
TARGET_S = 2.0
_MASH_NODE = Path(sys.executable).with_name("mash-node")


@dataclass(frozen=True)
class Killed:
    """One run: when it was killed, what was left and for how long, and the store after."""

    after_s: float  # from the prepare worker's start to the kill
    processes: int  # processes the import had started, alive at the kill
    ended_s: float | None  # from the kill until none was left (None: not within the wait)
    left: tuple[str, ...]  # what was still there at the end of the wait
    records: int  # police records in the store after the kill
    runs: int  # import runs recorded in the store after the kill
    verify_status: int
    verify_line: str

    def all_or_nothing(self, whole: int) -> bool:
        return (self.records, self.runs) in ((0, 0), (whole, 1))


def fresh_node(directory: Path) -> Path:
    """A new node in `directory` (whatever was there removed): its config file."""
    from node.config import render_config

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = directory / "node.toml"
    config.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    run_cli(config, "init", check=True)
    return config


def persons_file(directory: Path, records: int) -> Path:
    people = directory / f"persons-{records}.csv"
    if not people.exists():
        directory.mkdir(parents=True, exist_ok=True)
        write_persons(people, records)
    return people


def write_persons(path: Path, records: int) -> None:
    from node.synthetic.extracts import iter_person_rows

    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PERSON_COLUMNS)
        writer.writeheader()
        writer.writerows(iter_person_rows(BOROUGH, records, 1, as_of=AS_OF))
    partial.replace(path)


def run_cli(config: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MASH_PASSWORD=PASSWORD, MASH_USER="admin")
    done = subprocess.run(
        [str(_MASH_NODE), "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"mash-node {' '.join(args)} failed: {done.stderr.strip()}")
    return done


def start_import(config: Path, people: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MASH_PASSWORD=PASSWORD, MASH_USER="admin")
    return subprocess.Popen(
        [str(_MASH_NODE), "--config", str(config), "import", "--agency", "police", str(people)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, or a pid gone, does not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} {command[:90]}"


def _stat(pid: int) -> list[str] | None:
    """State, parent pid, ... of `pid` (the fields of /proc/PID/stat after the name)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def wait_for_worker(process: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    """Wait until the import has started its prepare worker; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for child in children(process.pid):
            if "spawn_main" in describe(child):
                return True
        time.sleep(0.01)
    return False


def kill_and_watch(
    process: subprocess.Popen[bytes], wait: float = 5.0
) -> tuple[int, float | None, tuple[str, ...]]:
    """SIGKILL the import; return how many processes it had started, how long until none was
    left (None if some outlived `wait` seconds), and those left."""
    started = descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    process.wait()
    while True:
        left = [pid for pid in started if alive(pid)]
        elapsed = time.monotonic() - killed_at
        if not left:
            return len(started), elapsed, ()
        if elapsed > wait:
            described = tuple(describe(pid) for pid in left)
            for pid in left:  # counted as left; now ended, so nothing outlives the benchmark
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return len(started), None, described
        time.sleep(0.01)


def imported(config: Path) -> tuple[int, int]:
    """The police records and the import runs the store holds."""
    with sqlite3.connect(config.parent / "data" / "node.db") as db:
        (records,) = db.execute(
            "SELECT count(*) FROM person_records WHERE agency_code = 'police'"
        ).fetchone()
        (runs,) = db.execute("SELECT count(*) FROM import_runs").fetchone()
    db.close()
    return int(records), int(runs)


def kill_once(config: Path, people: Path, after_s: float) -> Killed:
    process = start_import(config, people)
    if not wait_for_worker(process):
        raise RuntimeError("the import ended before its prepare worker started")
    started = time.monotonic()
    time.sleep(after_s)
    after = time.monotonic() - started
    processes, ended, left = kill_and_watch(process)
    verify = run_cli(config, "audit", "verify")
    line = (verify.stdout or verify.stderr).strip().splitlines()[0]
    return Killed(after, processes, ended, left, *imported(config), verify.returncode, line)


def timed_import(config: Path, people: Path) -> float:
    """Seconds a whole import of `people` takes, from its prepare worker's start to its end."""
    process = start_import(config, people)
    if not wait_for_worker(process):
        raise RuntimeError("the import ended before its prepare worker started")
    started = time.monotonic()
    if process.wait() != 0:
        raise RuntimeError(f"the timed import failed (exit {process.returncode})")
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()), flush=True)
    people = persons_file(WORK_DIR, args.records)
    whole = timed_import(fresh_node(WORK_DIR / "timing"), people)
    print(
        f"file: {people.name}, {people.stat().st_size / 2**20:.1f} MiB, {args.records:,} "
        f"records; a whole import took {whole:.1f} s from its worker's start",
        flush=True,
    )
    config = fresh_node(WORK_DIR / "node")
    rng = random.Random(args.seed)
    results: list[Killed] = []
    while sum(not r.runs for r in results) < args.runs and len(results) < 2 * args.runs:
        killed = kill_once(config, people, rng.uniform(0, 0.9 * whole))
        results.append(killed)
        print(
            f"run {len(results)}: killed {killed.after_s:.2f} s after the worker started; "
            f"{killed.processes} process(es) ended in "
            + (f"{killed.ended_s:.2f} s" if killed.ended_s is not None else f"> 5 s: {killed.left}")
            + f"; {killed.records:,} records, {killed.runs} import runs; "
            f"verify exit {killed.verify_status}",
            flush=True,
        )
        if killed.runs:  # it had committed: the next run imports into a fresh node again
            config = fresh_node(WORK_DIR / "node")
    rows = [
        (
            n,
            f"{r.after_s:.2f}",
            "after" if r.runs else "before",
            r.processes,
            f"{r.ended_s:.3f}" if r.ended_s is not None else "> 5",
            r.records,
            "yes" if r.all_or_nothing(args.records) else "NO",
            r.verify_status,
        )
        for n, r in enumerate(results, start=1)
    ]
    header = (
        "run", "killed after s", "commit", "processes", "all ended after s", "records",
        "all-or-nothing", "verify exit",
    )  # fmt: skip
    print(format_table(header, rows))
    mid = [r for r in results if not r.runs]  # killed before the import committed
    whole_or_none = sum(r.all_or_nothing(args.records) for r in results)
    intact = sum(r.verify_status == 0 for r in results)
    ended = [r.ended_s for r in results if r.ended_s is not None]
    in_time = sum(1 for s in ended if s <= TARGET_S)
    slowest = f"{max(ended):.3f} s" if ended else "-"
    print(
        f"{len(results)} kills, {len(mid)} before the import committed and "
        f"{len(results) - len(mid)} after; all-or-nothing {whole_or_none}/{len(results)}; "
        f"verify intact {intact}/{len(results)}; no process left within {TARGET_S:.0f} s "
        f"{in_time}/{len(results)} (slowest {slowest})"
    )
    met = whole_or_none == intact == in_time == len(results) and len(mid) >= args.runs
    print(
        f"target (SIGKILL mid-import {args.runs} times: all-or-nothing, verify intact, no "
        f"process left after 2 s): {'met' if met else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
