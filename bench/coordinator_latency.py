"""The coordinator's dashboards under load, and the interim report's PDF.

Run: .venv/bin/python -m bench.coordinator_latency [--users 20] [--seconds 30] [--warm-up 5]
     [--think-ms 1000] [--pdf-runs 5]

A coordinator is built once under bench/out/coordinator/ (reused while its schema is the code's;
delete the folder to rebuild): `mash-coordinator init`'s seeded plan, then `demo-data`: the plan
set as if the pilot began two years ago and two years (24 months) of synthetic monthly figures
from all 33 authorities (792 reports, about 90 counts and 10 statistics each), stored through
the same checks as a node's reports. `--users` viewers get web sessions made directly in the
store (signing in is not what is measured), their cookies signed with the app's own serializer.

The real server (`mash-coordinator serve`: waitress, 8 threads, and the gRPC service, one
process) runs on free loopback ports. Debian's `wrk` (`apt-get install -y wrk`) then drives each
page kind for `--seconds` with one connection per user: GET / (the London overview), GET
/evaluation (London-wide, the last 24 months of 33 boroughs: 13 charts with their tables), GET
/evaluation/boroughs/<code> (a borough at random) and GET /boroughs/<code> (a borough's page, at
random). Each user pauses uniformly between `--think-ms` / 2 and 3 × `--think-ms` / 2 before its
next request (0: none, a saturated closed loop). Baselines in the same run: a static file and
the sign-in page. A response other than 200 is an error. Target: p95 < 150 ms, no errors.

The interim report's PDF is timed in a process of its own, cold (the page parts' cache empty):
its figures read, the report drawn and WeasyPrint's PDF made, `--pdf-runs` times; and once over
HTTP from the running server. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from bench.import_throughput import OUT, format_table, machine_lines
from bench.web_latency import machine_busy_seconds, process_cpu_seconds

ROOT = OUT / "coordinator"
CONFIG = ROOT / "coordinator.toml"
LUA_FILE = ROOT / "load.lua"
DATA_FILE = ROOT / "load-data.lua"
SERVER_LOG = ROOT / "server.log"
COOKIE = "mash-coordinator"
TARGET_P95_MS = 150.0
TARGET_PDF_S = 5.0
WRK_TIMEOUT_S = 10
PAGES = {
    "static": "GET /static/app.css (baseline, floor)",
    "sign-in": "GET /sign-in (baseline)",
    "overview": "GET / (London overview)",
    "evaluation": "GET /evaluation (London, 24 months x 33 boroughs)",
    "borough-evaluation": "GET /evaluation/boroughs/<code>",
    "borough": "GET /boroughs/<code>",
}
BASELINES = ("static", "sign-in")


def build() -> None:
    """The coordinator with the seeded plan and two years of figures, made once."""
    from coordinator.config import render_config
    from coordinator.evaluation.demo_data import write_demo_data
    from coordinator.rollout.seed import seed
    from coordinator.runtime import Coordinator
    from coordinator.store.db import StoreOutOfDate
    from mash_common import ca

    if CONFIG.exists():
        try:
            Coordinator.open(CONFIG).close()
            return
        except StoreOutOfDate:
            shutil.rmtree(ROOT)
    ROOT.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(render_config(web_port=0, grpc_port=0, secure=False), encoding="utf-8")
    ca.init_ca(ROOT / "ca")
    ca.issue_coordinator_with_key(ROOT / "ca", ROOT / "data" / "tls")
    started = time.perf_counter()
    with Coordinator.initialise(CONFIG) as coordinator, coordinator.unit_of_work() as db:
        seed(db)
        written = write_demo_data(db, months=24)
    print(
        f"built {ROOT}: {written.reports} reports, {written.first} to {written.last}, "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def sessions(count: int) -> list[str]:
    """`count` viewers, each with a live web session; returns their signed cookies."""
    from sqlalchemy import select

    from coordinator import users
    from coordinator.access import Actor
    from coordinator.auth import sessions as auth_sessions
    from coordinator.config import load_config
    from coordinator.store.models import Role, User, utcnow
    from coordinator.web import create_app
    from coordinator.web.services import current_coordinator

    app = create_app(load_config(CONFIG))
    coordinator = current_coordinator(app)
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookies = []
    with coordinator.unit_of_work() as db:
        for n in range(1, count + 1):
            username = f"bench.viewer-{n:02d}"
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                user = users.add_user(
                    db,
                    Actor("bench", Role.ADMINISTRATOR),
                    username=username,
                    display_name=f"Bench viewer {n}",
                    role=Role.VIEWER,
                    password="Correct-horse-battery-staple",
                )
            token = auth_sessions.start(db, user, utcnow())
            session = db.scalar(
                select(auth_sessions.WebSession).where(
                    auth_sessions.WebSession.token_hash == auth_sessions.token_hash(token)
                )
            )
            assert session is not None
            token = auth_sessions.complete_second_factor(db, session.id)
            cookies.append(serializer.dumps({"token": token}))
    coordinator.close()
    return cookies


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def running_server() -> Iterator[Server]:
    log = SERVER_LOG.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "coordinator.cli", "--config", str(CONFIG), "serve",
         "--port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("Listening on http://"):
            raise SystemExit(f"the server did not start (see {SERVER_LOG}): {line!r}")
        yield Server(line.removeprefix("Listening on ").strip(), process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


LUA = r"""
local counter = 1
local threads = {}

function setup(thread)
  thread:set("number", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local data = dofile(args[1])
  mode, think = args[2], tonumber(args[3])
  if think > 0 then
    delay = function() return think * (0.5 + math.random()) end
  end
  local cookie = data.cookies[((number - 1) % #data.cookies) + 1]
  headers = {["Cookie"] = data.cookie_name .. "=" .. cookie}
  boroughs = data.boroughs
  math.randomseed(number * 7919 + os.time())
  non200 = 0
  paths = {static = "/static/app.css", ["sign-in"] = "/sign-in", overview = "/",
           evaluation = "/evaluation"}
end

function request()
  if mode == "borough-evaluation" then
    return wrk.format("GET", "/evaluation/boroughs/" .. boroughs[math.random(#boroughs)], headers)
  elseif mode == "borough" then
    return wrk.format("GET", "/boroughs/" .. boroughs[math.random(#boroughs)], headers)
  end
  if mode == "static" or mode == "sign-in" then
    return wrk.format("GET", paths[mode])  -- as a visitor who is not signed in
  end
  return wrk.format("GET", paths[mode], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non200": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, n,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class PageRun:
    page: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_cpu: float
    other_cpu: float


def run_wrk(server: Server, mode: str, users: int, seconds: float, think_ms: float) -> PageRun:
    busy_before = machine_busy_seconds()
    cpu_before = process_cpu_seconds(server.pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        ["wrk", f"-t{users}", f"-c{users}", f"-d{seconds:g}s", f"--timeout={WRK_TIMEOUT_S}s",
         "-s", str(LUA_FILE), server.base_url + "/", "--", str(DATA_FILE), mode, str(think_ms)],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (process_cpu_seconds(server.pid) - cpu_before) / wall
    wrk_cpu = (
        children.ru_utime - children_before.ru_utime + children.ru_stime - children_before.ru_stime
    ) / wall
    busy = (machine_busy_seconds() - busy_before) / wall
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    return PageRun(
        mode,
        result["requests"],
        result["duration_us"] / 1e6,
        result["errors"] + result["non200"],
        result["p50_us"] / 1000,
        result["p95_us"] / 1000,
        result["p99_us"] / 1000,
        result["max_us"] / 1000,
        server_cpu,
        max(0.0, busy - server_cpu - wrk_cpu),
    )


def report(runs: Sequence[PageRun]) -> list[str]:
    floor = min((r for r in runs if r.page in BASELINES), key=lambda r: r.p95_ms)
    rows = [
        (
            PAGES[r.page],
            r.requests,
            f"{r.requests / r.seconds:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.max_ms:.0f}",
            r.errors,
            f"{r.p95_ms / floor.p95_ms:.1f}x" if floor.p95_ms else "-",
            f"{r.server_cpu:.2f}",
            f"{r.other_cpu:.2f}",
        )
        for r in runs
    ]
    header = ("page", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
              "p95/floor", "server cores", "other cores")  # fmt: skip
    lines = [format_table(header, rows), "", "targets:"]
    for r in runs:
        if r.page not in BASELINES:
            met = r.p95_ms < TARGET_P95_MS and r.errors == 0
            lines.append(
                f"  [{'met' if met else 'NOT MET'}] {PAGES[r.page]}: p95 {r.p95_ms:.1f} ms "
                f"< {TARGET_P95_MS:.0f} ms, {r.errors} errors"
            )
    return lines


def time_pdf(runs: int) -> list[tuple[float, float]]:
    """The interim report's PDF made cold, `runs` times, in this process: (wall, CPU) seconds
    each (on a shared machine the wall time includes waiting for a core)."""
    from coordinator.config import load_config
    from coordinator.web import create_app
    from coordinator.web.reports import views
    from coordinator.web.reports.printing import for_print
    from mash_common.web import STATIC_FOLDER
    from mash_common.web.pdf import render_pdf

    app = create_app(load_config(CONFIG))
    times = []
    with app.test_request_context("/reports/interim.pdf"):
        from flask import render_template

        for _ in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            period = views._period("interim")
            content = for_print(views._content(period))
            html = render_template("reports/print.html", period=period, content=content)
            pdf = render_pdf(html, STATIC_FOLDER)
            times.append((time.perf_counter() - started, time.process_time() - cpu))
            assert pdf.startswith(b"%PDF")
    return times


def pdf_over_http(server: Server, cookie: str) -> tuple[float, int]:
    request = urllib.request.Request(
        server.base_url + "/reports/interim.pdf", headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return time.perf_counter() - started, len(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.coordinator_latency", description=__doc__
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warm-up", type=float, default=5)
    parser.add_argument("--think-ms", type=float, default=1000)
    parser.add_argument("--pdf-runs", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("needs Debian's wrk: apt-get install -y wrk")
    for line in machine_lines():
        print(line)
    build()
    cookies = sessions(args.users)
    LUA_FILE.write_text(LUA, encoding="ascii")
    from coordinator.rollout.london import AUTHORITIES

    boroughs = [a.code for a in AUTHORITIES]
    random.Random(5).shuffle(boroughs)
    DATA_FILE.write_text(
        "return {\n"
        f'  cookie_name = "{COOKIE}",\n'
        "  cookies = {" + ", ".join(f'"{c}"' for c in cookies) + "},\n"
        "  boroughs = {" + ", ".join(f'"{b}"' for b in boroughs) + "},\n"
        "}\n",
        encoding="ascii",
    )
    print(
        f"users: {args.users}; think: {args.think_ms / 2:g}-{3 * args.think_ms / 2:g} ms"
        if args.think_ms
        else f"users: {args.users}; no think time (saturated)"
    )
    runs = []
    with running_server() as server:
        http_pdf = pdf_over_http(server, cookies[0])
        for mode in args.pages.split(","):
            if args.warm_up:
                run_wrk(server, mode, args.users, args.warm_up, args.think_ms)
            runs.append(run_wrk(server, mode, args.users, args.seconds, args.think_ms))
            print(f"  {PAGES[mode]}: p95 {runs[-1].p95_ms:.1f} ms", flush=True)
    print()
    for line in report(runs):
        print(line)
    times = time_pdf(args.pdf_runs) if args.pdf_runs else []
    print()
    print(
        f"interim report PDF over HTTP, first request (cold): {http_pdf[0]:.2f} s, {http_pdf[1]:,} bytes"
    )
    if times:
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        print(
            f"interim report PDF made cold in process, {len(times)} runs: wall median "
            f"{statistics.median(walls):.2f} s, best {min(walls):.2f} s, worst {max(walls):.2f} s; "
            f"CPU median {statistics.median(cpus):.2f} s, worst {max(cpus):.2f} s"
        )
        worst = max([*walls, http_pdf[0]])
        print(
            f"  [{'met' if worst < TARGET_PDF_S else 'NOT MET'}] under {TARGET_PDF_S:g} s (worst {worst:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
