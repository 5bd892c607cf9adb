"""The Ansible playbooks, run for real against this machine (local connection): the coordinator
and two boroughs (Hackney on PostgreSQL, Lambeth on SQLite) deployed by `site.yml` from
playbooks/inventories/local into a directory, ports and databases of the test's own, in the
playbooks' no-systemd mode (`mash_service_manager: process`). The deployed federation must serve
and its nodes reach each other; a second run must change nothing. Every process the playbook
started is stopped afterwards by its pid file, and the databases are dropped."""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
INVENTORY = PLAYBOOKS / "inventories" / "local"
BIN = Path(sys.executable).parent
PLAYBOOK = BIN / "ansible-playbook"
PORT_NAMES = (
    "coordinator_web",
    "coordinator_grpc",
    "coordinator_enrol",
    "hackney_web",
    "hackney_federation",
    "lambeth_web",
    "lambeth_federation",
)
HOSTS = ("programme", "hackney", "lambeth")  # the coordinator's host is "programme"
WEB = {"programme": "coordinator_web", "hackney": "hackney_web", "lambeth": "lambeth_web"}


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now, all different, below the ephemeral range: a port picked by
    the kernel (bind to 0) can be taken by an outgoing connection's end before the service
    binds it, and a client connecting to an ephemeral port nobody listens on can connect to
    itself."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    chosen: list[int] = []
    with ExitStack() as stack:
        while len(chosen) < count:
            port = random.randrange(max(1024, low - 12000), low)
            sock = stack.enter_context(closing(socket.socket()))
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen.append(port)
    return chosen


@dataclass(frozen=True)
class Deployment:
    root: Path
    ports: dict[str, int]
    vars_file: Path
    db_prefix: str

    def run(self, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(self.root / ".ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.root / ".ansible-tmp"),
            "ANSIBLE_PIPELINING": "1",
            "PYTHONWARNINGS": "ignore",
        }
        return subprocess.run(
            [str(PLAYBOOK), "-i", str(INVENTORY), "-e", f"@{self.vars_file}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def node(
        self, borough: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        folder = self.root / "nodes" / borough
        env = {**os.environ, **(env or {})}
        if (folder / "secrets" / "pgpass").exists():
            env["PGPASSFILE"] = str(folder / "secrets" / "pgpass")
        return subprocess.run(
            [str(BIN / "mash-node"), "--config", str(folder / "node.toml"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )


def _stop_everything(root: Path) -> None:
    """Stop every service the playbook started, by its pid file (the finalizer)."""
    pids = []
    for pid_file in root.glob("**/run/serve.pid"):
        try:
            pids.append(int(pid_file.read_text().strip()))
        except (OSError, ValueError):
            continue
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _drop_databases(prefix: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": f"{prefix}\\_%"},
            ).scalars()
            for name in list(names):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            roles = conn.execute(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"),
                {"p": f"{prefix}\\_%"},
            ).scalars()
            for role in list(roles):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One deployment for the module's tests, in order: deploy and redeploy, the scheduled
    backups, an upgrade, an upgrade stopped at its first failure, a restore."""
    tmp_path = tmp_path_factory.mktemp("deploy")
    if not PLAYBOOK.exists():
        pytest.fail(
            f"{PLAYBOOK} is missing: ansible-core is a dev dependency (pip install -e .[dev])"
        )
    root = tmp_path / "federation"
    ports = dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES)), strict=True))
    prefix = f"mash_deploy_{secrets.token_hex(4)}"
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(
        json.dumps(
            {
                "mash_local_root": str(root),
                "mash_local_ports": ports,
                "mash_local_db_prefix": prefix,
                "mash_bin_dir": str(BIN),
                "ansible_python_interpreter": sys.executable,
            }
        )
    )
    try:
        yield Deployment(root, ports, vars_file, prefix)
    finally:
        _stop_everything(root)
        _drop_databases(prefix)


def _recap(output: str) -> dict[str, dict[str, int]]:
    """Each host's counts from the PLAY RECAP."""
    recap = output.rsplit("PLAY RECAP", 1)[-1]
    hosts = {}
    for line in recap.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            hosts[match[1]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match[2])}
    return hosts


def _failures(done: subprocess.CompletedProcess[str]) -> str:
    """What a failed run says: each failed task with what came before it, and the recap."""
    lines = done.stdout.splitlines()
    shown = [
        "\n".join(lines[max(0, i - 12) : i + 3])
        for i, line in enumerate(lines)
        if line.startswith(("fatal:", "failed:"))
    ]
    return "\n...\n".join(shown) + done.stdout.rsplit("PLAY RECAP", 1)[-1] + done.stderr[-2000:]


def _sign_in_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def test_the_playbooks_pass_the_syntax_check(tmp_path: Path) -> None:
    for playbook in ("site.yml", "coordinator.yml", "nodes.yml"):
        done = subprocess.run(
            [str(PLAYBOOK), "-i", str(INVENTORY), "--syntax-check", str(PLAYBOOKS / playbook)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path), "PYTHONWARNINGS": "ignore"},
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_site_deploys_a_working_federation_and_a_second_run_changes_nothing(
    deployment: Deployment,
) -> None:
    first = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert first.returncode == 0, _failures(first)
    recap = _recap(first.stdout)
    assert set(recap) == set(HOSTS)
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in recap.values())

    # Every service serves its sign-in page from the ports the test chose.
    for host in HOSTS:
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])
    # Keys were made on the host that owns them and are its alone; secrets are 0600.
    root = deployment.root
    assert (root / "coordinator" / "ca" / "ca.key").stat().st_mode & 0o077 == 0
    for borough in ("hackney", "lambeth"):
        keys = root / "nodes" / borough / "data" / "keys"
        assert (keys / "signing.key").stat().st_mode & 0o077 == 0
        assert (keys / "coordinator.json").exists()  # enrolled
        assert (
            root / "nodes" / borough / "secrets" / "admin-password"
        ).stat().st_mode & 0o777 == 0o600
    # Hackney is on its own PostgreSQL database (the password in its pgpass file, not the
    # config); Lambeth on SQLite.
    hackney_config = (root / "nodes" / "hackney" / "node.toml").read_text()
    assert f"/{deployment.db_prefix}_hackney" in hackney_config
    assert (root / "nodes" / "hackney" / "secrets" / "pgpass").stat().st_mode & 0o777 == 0o600
    password = (root / "nodes" / "hackney" / "secrets" / "pgpass").read_text().split(":")[4]
    assert password.strip() not in hackney_config
    lambeth_config = (root / "nodes" / "lambeth" / "node.toml").read_text()
    assert not re.search(r"^database_url", lambeth_config, re.MULTILINE)
    assert (root / "nodes" / "lambeth" / "data" / "node.db").exists()
    # The enrolment token never reached the output.
    assert "mash1." not in first.stdout + first.stderr

    # Each node reaches the other over mutual TLS, with the coordinator's directory.
    for borough, other in (("hackney", "lambeth"), ("lambeth", "hackney")):
        peers = deployment.node(borough, "peers", "list")
        assert peers.returncode == 0, peers.stderr
        assert "coordinator's directory" in peers.stdout
        row = next(line for line in peers.stdout.splitlines() if line.startswith(other))
        assert re.search(r"\byes\b", row), peers.stdout

    second = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert second.returncode == 0, _failures(second)
    again = _recap(second.stdout)
    assert {host: counts["changed"] for host, counts in again.items()} == dict.fromkeys(HOSTS, 0), (
        second.stdout[-6000:]
    )
    for host in HOSTS:
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])


def _admin(deployment: Deployment, borough: str) -> dict[str, str]:
    secret = deployment.root / "nodes" / borough / "secrets" / "admin-password"
    return {"MASH_USER": "admin", "MASH_PASSWORD": secret.read_text()}


def test_a_check_from_one_deployed_borough_finds_a_person_imported_into_the_other(
    deployment: Deployment, tmp_path: Path
) -> None:
    password = "a long enough password"
    added = deployment.node(
        "lambeth", "user", "add", "m.manager", "--role", "mash-manager", "--name", "M Manager",
        env={**_admin(deployment, "lambeth"), "MASH_NEW_PASSWORD": password},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    people = tmp_path / "people.csv"
    people.write_text(
        "record_id,forenames,surname,date_of_birth,postcode\nP1,William,Okafor,2013-03-07,E8 1EA\n"
    )
    imported = deployment.node(
        "hackney", "import", "--agency", "police", str(people),
        env=_admin(deployment, "hackney"),  # imports are the node administrator's
    )  # fmt: skip
    assert imported.returncode == 0, imported.stdout + imported.stderr
    refreshed = deployment.node("lambeth", "peers", "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    manager = {"MASH_USER": "m.manager", "MASH_PASSWORD": password}
    for forenames, surname, expected in (
        ("William", "Okafor", "Hackney holds information"),
        ("Amara", "Quist", "Hackney holds nothing"),
    ):
        checked = deployment.node(
            "lambeth", "check", "--forenames", forenames, "--surname", surname,
            "--date-of-birth", "2013-03-07", "--reference", "LAM-2026-00042",
            "--purpose", "contact about a new pupil", env=manager,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert expected in checked.stdout, checked.stdout


def _pid(deployment: Deployment, borough: str) -> int:
    return int((deployment.root / "nodes" / borough / "run" / "serve.pid").read_text())


def _backups(deployment: Deployment, borough: str, kind: str) -> list[Path]:
    return sorted((deployment.root / "nodes" / borough / "backups").glob(f"{kind}-*"))


def test_the_stores_are_backed_up_on_a_schedule_keeping_the_newest(
    deployment: Deployment,
) -> None:
    for borough, extension in (("hackney", ".dump"), ("lambeth", ".db")):
        cron = (deployment.root / f"mash-store-{borough}").read_text()
        line = next(row for row in cron.splitlines() if row.startswith("30 2 * * *"))
        command = line.split(None, 6)[6]  # minute hour day month weekday user command
        for _ in range(3):
            done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            time.sleep(1.1)  # one backup a second: its name is its time
        kept = _backups(deployment, borough, "scheduled")
        assert len(kept) == 2  # mash_backup_keep
        assert all(path.suffix == extension and path.stat().st_size > 0 for path in kept)
        assert all(path.stat().st_mode & 0o077 == 0 for path in kept)


def test_an_upgrade_backs_up_each_store_then_migrates_and_serves_again(
    deployment: Deployment,
) -> None:
    before = {b: _pid(deployment, b) for b in ("hackney", "lambeth")}
    done = deployment.run(str(PLAYBOOKS / "upgrade.yml"))
    assert done.returncode == 0, _failures(done)
    for borough in ("hackney", "lambeth"):
        assert len(_backups(deployment, borough, "pre-upgrade")) == 1
        assert _pid(deployment, borough) != before[borough]  # stopped and started again
    assert list((deployment.root / "coordinator" / "backups").glob("pre-upgrade-*.dump"))
    for host in HOSTS:
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])
    # One service at a time: each borough was stopped, backed up and started before the next.
    order = re.findall(
        r"TASK \[node : Back up the node's store before it is migrated\].*?"
        r"changed: \[(\w+)\]",
        done.stdout,
        re.DOTALL,
    )
    assert order == ["hackney", "lambeth"]


def test_an_upgrade_stops_at_the_first_failure_and_a_restore_brings_the_borough_back(
    deployment: Deployment,
) -> None:
    hackney = deployment.root / "nodes" / "hackney"
    admin = {
        "MASH_USER": "admin",
        "MASH_PASSWORD": (hackney / "secrets" / "admin-password").read_text(),
    }
    # Hackney's backup cannot be written (its backups directory is a file): its upgrade fails
    # after it was stopped, and Lambeth, next in the rollout, must not be touched.
    (hackney / "backups").rename(hackney / "backups.kept")
    (hackney / "backups").write_text("not a directory")
    lambeth_pid = _pid(deployment, "lambeth")
    lambeth_backups = _backups(deployment, "lambeth", "pre-upgrade")
    failed = deployment.run(str(PLAYBOOKS / "upgrade.yml"), "--limit", "nodes")
    assert failed.returncode != 0
    assert _recap(failed.stdout)["hackney"]["failed"] == 1
    assert _pid(deployment, "lambeth") == lambeth_pid
    assert _backups(deployment, "lambeth", "pre-upgrade") == lambeth_backups
    assert not (hackney / "run" / "serve.pid").exists()  # left stopped
    (hackney / "backups").unlink()
    (hackney / "backups.kept").rename(hackney / "backups")

    # A user added after the last backup is gone once the backup is restored.
    added = deployment.node(
        "hackney",
        "user",
        "add",
        "j.smith",
        "--role",
        "mash-manager",
        "--name",
        "Jo Smith",
        env={**admin, "MASH_NEW_PASSWORD": "a long enough password"},
    )
    assert added.returncode == 0, added.stderr
    restored = deployment.run(
        str(PLAYBOOKS / "restore.yml"), "--limit", "hackney", "-e", "mash_restore_from=latest"
    )
    assert restored.returncode == 0, _failures(restored)
    users = deployment.node("hackney", "user", "list", env=admin)
    assert users.returncode == 0, users.stderr
    assert "admin" in users.stdout and "j.smith" not in users.stdout
    assert "Sign in" in _sign_in_page(deployment.ports["hackney_web"])
    peers = deployment.node("lambeth", "peers", "list")
    assert re.search(r"^hackney\s.*\byes\b", peers.stdout, re.MULTILINE), peers.stdout
