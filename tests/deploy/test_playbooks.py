"""The Ansible playbooks, run for real against this machine (local connection): the coordinator
and two boroughs (Hackney on PostgreSQL, Lambeth on SQLite) deployed by `site.yml` from
playbooks/inventories/local into a directory, ports and databases of the test's own, in the
playbooks' no-systemd mode (`mash_service_manager: process`). The deployed federation must serve
and its nodes reach each other; a second run must change nothing. Every process the playbook
started is stopped afterwards by its pid file, and the databases are dropped."""

from __future__ import annotations

import json
import os
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
HOSTS = ("coordinator", "hackney", "lambeth")


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now, all different (held open together while chosen)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(closing(socket.socket()))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


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

    def node(self, borough: str, *args: str) -> subprocess.CompletedProcess[str]:
        folder = self.root / "nodes" / borough
        env = {**os.environ}
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


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
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
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    recap = _recap(first.stdout)
    assert set(recap) == set(HOSTS)
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in recap.values())

    # Every service serves its sign-in page from the ports the test chose.
    for host in HOSTS:
        assert "Sign in" in _sign_in_page(deployment.ports[f"{host}_web"])
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
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-3000:]
    again = _recap(second.stdout)
    assert {host: counts["changed"] for host, counts in again.items()} == dict.fromkeys(HOSTS, 0), (
        second.stdout[-6000:]
    )
    for host in HOSTS:
        assert "Sign in" in _sign_in_page(deployment.ports[f"{host}_web"])
