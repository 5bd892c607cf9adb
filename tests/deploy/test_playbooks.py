"""The Ansible playbooks, run for real against this machine (local connection), in the
playbooks' no-systemd mode (`mash_service_manager: process`), into a directory, ports and
databases of the test's own: the coordinator and pilot wave 1 (Hackney, Lambeth and Southwark,
each on its own PostgreSQL database) deployed by `site.yml`, then wave 2 (Lewisham, a small hub
on SQLite) added as an ops engineer adds a later wave: its lines in the inventory and one run.
The deployed federation must serve and its nodes reach each other; a second run must change
nothing; an upgrade to a newer release built here migrates every store, one service at a time;
a failed upgrade stops the rollout; a restore brings a borough and the coordinator back. Every
process the playbooks started is stopped afterwards by its pid file, and the databases are
dropped."""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
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
import yaml
from sqlalchemy import create_engine, inspect, make_url, text

from tests.conftest import PG_ADMIN_URL
from tests.deploy.release import REHEARSAL_TABLE, Release, build_newer_release

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
INVENTORY = PLAYBOOKS / "inventories" / "local"
BIN = Path(sys.executable).parent
PLAYBOOK = BIN / "ansible-playbook"
WAVE_1 = ("hackney", "lambeth", "southwark")  # each on PostgreSQL
WAVE_2 = ("lewisham",)  # on SQLite, added later
BOROUGHS = WAVE_1 + WAVE_2
PORT_NAMES = (
    "coordinator_web",
    "coordinator_grpc",
    "coordinator_enrol",
    *(f"{borough}_{kind}" for borough in BOROUGHS for kind in ("web", "federation")),
)
HOSTS = ("programme", *BOROUGHS)  # the coordinator's host is "programme"
WEB = {"programme": "coordinator_web", **{b: f"{b}_web" for b in BOROUGHS}}


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


@dataclass
class Deployment:
    root: Path
    ports: dict[str, int]
    vars_file: Path
    db_prefix: str
    inventory: Path  # what the playbooks run with: wave 1 alone at first, then both waves
    bin_dir: Path = BIN  # where the deployed release's commands are
    release: Release | None = None  # the newer release, once upgraded to

    def settings(self, **changes: object) -> None:
        """Change the extra variables every later run passes."""
        self.vars_file.write_text(json.dumps({**json.loads(self.vars_file.read_text()), **changes}))

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
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
            [str(PLAYBOOK), "-i", str(self.inventory), "-e", f"@{self.vars_file}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def node(
        self,
        borough: str,
        *args: str,
        env: dict[str, str] | None = None,
        bin_dir: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        folder = self.root / "nodes" / borough
        env = {**os.environ, **(env or {})}
        if (folder / "secrets" / "pgpass").exists():
            env["PGPASSFILE"] = str(folder / "secrets" / "pgpass")
        command = [str((bin_dir or self.bin_dir) / "mash-node"), "--config"]
        return subprocess.run(
            [*command, str(folder / "node.toml"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def schema(self, service: str) -> tuple[str, list[str]]:
        """A deployed store's migration, and the releases its upgrade-rehearsal table names
        (none when it has no such table): "coordinator" or a borough."""
        sqlite_file = self.root / "nodes" / service / "data" / "node.db"
        if service in WAVE_2:
            url = make_url(f"sqlite:///{sqlite_file}")
        else:
            url = make_url(PG_ADMIN_URL).set(database=f"{self.db_prefix}_{service}")
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                revision = connection.execute(text("SELECT version_num FROM alembic_version"))
                releases: list[str] = []
                if inspect(connection).has_table(REHEARSAL_TABLE):
                    releases = list(
                        connection.execute(text(f"SELECT release FROM {REHEARSAL_TABLE}")).scalars()
                    )
                return revision.scalar_one(), releases
        finally:
            engine.dispose()


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
    """One deployment for the module's tests, in order: wave 1 deployed and redeployed, wave 2
    added, a check across boroughs, the scheduled backups, an upgrade to a newer release, an
    upgrade stopped at its first failure, a restore."""
    tmp_path = tmp_path_factory.mktemp("deploy")
    if not PLAYBOOK.exists():
        pytest.fail(
            f"{PLAYBOOK} is missing: ansible-core is a dev dependency (pip install -e .[dev])"
        )
    # The local inventory as it stood before wave 2: the same file without wave 2's group.
    wave_1 = tmp_path / "inventory"
    shutil.copytree(INVENTORY, wave_1)
    hosts = yaml.safe_load((wave_1 / "hosts.yml").read_text())
    del hosts["all"]["children"]["nodes"]["children"]["pilot_wave_2"]
    (wave_1 / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))

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
        yield Deployment(root, ports, vars_file, prefix, wave_1)
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


def _peer_reached(deployment: Deployment, borough: str, other: str) -> bool:
    peers = deployment.node(borough, "peers", "list")
    assert peers.returncode == 0, peers.stderr
    assert "coordinator's directory" in peers.stdout
    return bool(re.search(rf"^{other}\s.*\byes\b", peers.stdout, re.MULTILINE))


def test_the_playbooks_pass_the_syntax_check(tmp_path: Path) -> None:
    for playbook in ("site.yml", "coordinator.yml", "nodes.yml", "upgrade.yml", "restore.yml"):
        done = subprocess.run(
            [str(PLAYBOOK), "-i", str(INVENTORY), "--syntax-check", str(PLAYBOOKS / playbook)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path), "PYTHONWARNINGS": "ignore"},
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_playbooks_pass_ansible_lint_at_its_production_profile() -> None:
    """playbooks/.ansible-lint: the production profile, offline (nothing fetched)."""
    done = subprocess.run(
        [str(BIN / "ansible-lint"), "--nocolor"],
        cwd=PLAYBOOKS,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
             "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Profile 'production' was required, and it passed" in output, output


def test_site_deploys_a_working_federation_and_a_second_run_changes_nothing(
    deployment: Deployment,
) -> None:
    first = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert first.returncode == 0, _failures(first)
    recap = _recap(first.stdout)
    assert set(recap) == {"programme", *WAVE_1}
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in recap.values())

    # Every service serves its sign-in page from the ports the test chose.
    for host in recap:
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])
    # Keys were made on the host that owns them and are its alone; secrets are 0600.
    root = deployment.root
    assert (root / "coordinator" / "ca" / "ca.key").stat().st_mode & 0o077 == 0
    for borough in WAVE_1:
        folder = root / "nodes" / borough
        keys = folder / "data" / "keys"
        assert (keys / "signing.key").stat().st_mode & 0o077 == 0
        assert (keys / "coordinator.json").exists()  # enrolled
        assert (folder / "secrets" / "admin-password").stat().st_mode & 0o777 == 0o600
        # Each on its own PostgreSQL database, the password in its pgpass file, not the config.
        config = (folder / "node.toml").read_text()
        assert f"/{deployment.db_prefix}_{borough}" in config
        pgpass = folder / "secrets" / "pgpass"
        assert pgpass.stat().st_mode & 0o777 == 0o600
        assert pgpass.read_text().split(":")[4].strip() not in config
    # The enrolment token never reached the output.
    assert "mash1." not in first.stdout + first.stderr

    # Each node reaches every other over mutual TLS, with the coordinator's directory.
    for borough in WAVE_1:
        for other in set(WAVE_1) - {borough}:
            assert _peer_reached(deployment, borough, other), (borough, other)

    second = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert second.returncode == 0, _failures(second)
    again = _recap(second.stdout)
    assert {host: counts["changed"] for host, counts in again.items()} == dict.fromkeys(recap, 0), (
        second.stdout[-6000:]
    )
    for host in recap:
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])


def test_a_later_wave_is_its_lines_in_the_inventory_and_one_run(deployment: Deployment) -> None:
    deployment.inventory = INVENTORY  # wave 2's group added
    done = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert done.returncode == 0, _failures(done)
    recap = _recap(done.stdout)
    assert set(recap) == set(HOSTS)
    assert {host: counts["changed"] for host, counts in recap.items() if host != "lewisham"} == (
        dict.fromkeys(set(HOSTS) - {"lewisham"}, 0)
    ), done.stdout[-6000:]
    assert recap["lewisham"]["changed"] > 0 and recap["lewisham"]["failed"] == 0
    assert "Sign in" in _sign_in_page(deployment.ports["lewisham_web"])
    # Lewisham, a small hub, is on SQLite in its data directory.
    lewisham = deployment.root / "nodes" / "lewisham"
    assert not re.search(r"^database_url", (lewisham / "node.toml").read_text(), re.MULTILINE)
    assert (lewisham / "data" / "node.db").exists()
    # The new borough and the others reach each other (the playbook checked it too).
    for borough in WAVE_1:
        assert _peer_reached(deployment, "lewisham", borough), borough
        assert _peer_reached(deployment, borough, "lewisham"), borough


def _admin(deployment: Deployment, borough: str) -> dict[str, str]:
    secret = deployment.root / "nodes" / borough / "secrets" / "admin-password"
    return {"MASH_USER": "admin", "MASH_PASSWORD": secret.read_text()}


MANAGER_PASSWORD = "a long enough password"


def _check(deployment: Deployment, borough: str, forenames: str, surname: str) -> str:
    """A check from `borough` by its MASH manager; what it printed."""
    checked = deployment.node(
        borough, "check", "--forenames", forenames, "--surname", surname,
        "--date-of-birth", "2013-03-07", "--reference", "LEW-2026-00042",
        "--purpose", "contact about a new pupil",
        env={"MASH_USER": "m.manager", "MASH_PASSWORD": MANAGER_PASSWORD},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return checked.stdout


def test_a_check_from_one_deployed_borough_finds_a_person_imported_into_another(
    deployment: Deployment, tmp_path: Path
) -> None:
    added = deployment.node(
        "lewisham", "user", "add", "m.manager", "--role", "mash-manager", "--name", "M Manager",
        env={**_admin(deployment, "lewisham"), "MASH_NEW_PASSWORD": MANAGER_PASSWORD},
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
    refreshed = deployment.node("lewisham", "peers", "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    found = _check(deployment, "lewisham", "William", "Okafor")
    assert "Hackney holds information" in found, found
    assert "Lambeth holds nothing" in found and "Southwark holds nothing" in found, found
    assert "Hackney holds nothing" in _check(deployment, "lewisham", "Amara", "Quist")


def _pid(deployment: Deployment, service: str) -> int:
    folder = "coordinator" if service == "programme" else f"nodes/{service}"
    return int((deployment.root / folder / "run" / "serve.pid").read_text())


def _backups(deployment: Deployment, borough: str, kind: str) -> list[Path]:
    return sorted((deployment.root / "nodes" / borough / "backups").glob(f"{kind}-*"))


def test_the_stores_are_backed_up_on_a_schedule_keeping_the_newest(
    deployment: Deployment,
) -> None:
    for borough, extension in (("hackney", ".dump"), ("lewisham", ".db")):
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


def test_an_upgrade_to_a_newer_release_migrates_every_store_one_service_at_a_time(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    release = build_newer_release(ROOT, tmp_path_factory.mktemp("release"))
    before = {host: _pid(deployment, host) for host in HOSTS}
    old = {service: deployment.schema(service) for service in ("coordinator", *BOROUGHS)}
    assert all(releases == [] for _, releases in old.values())
    deployment.settings(
        mash_install=True,
        mash_package=str(release.wheel),
        mash_venv_dir=str(release.venv),
        mash_bin_dir=str(release.bin_dir),
        mash_pip_extra_args="--no-index",  # its dependencies are in place; nothing downloaded
    )
    done = deployment.run(str(PLAYBOOKS / "upgrade.yml"), timeout=600)
    assert done.returncode == 0, _failures(done)
    deployment.bin_dir, deployment.release = release.bin_dir, release

    # One service at a time: the coordinator, then each borough stopped, backed up, migrated
    # and started before the next.
    order = re.findall(
        r"TASK \[node : Back up the node's store before it is migrated\].*?changed: \[(\w+)\]",
        done.stdout,
        re.DOTALL,
    )
    assert order == list(BOROUGHS)
    assert len(list((deployment.root / "coordinator" / "backups").glob("pre-upgrade-*.dump"))) == 1
    for borough in BOROUGHS:
        assert len(_backups(deployment, borough, "pre-upgrade")) == 1
    # Every store carries the new release's migration; every service runs the new release.
    assert deployment.schema("coordinator") == (release.coordinator_revision, [release.version])
    for borough in BOROUGHS:
        assert deployment.schema(borough) == (release.node_revision, [release.version])
    for host in HOSTS:
        pid = _pid(deployment, host)
        assert pid != before[host]
        assert str(release.venv) in Path(f"/proc/{pid}/cmdline").read_text()
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])
    # The release before refuses a store the new one migrated, and says why.
    refused = deployment.node("hackney", "user", "list", env=_admin(deployment, "hackney"),
                              bin_dir=BIN)  # fmt: skip
    assert refused.returncode != 0
    assert f"the store's schema is at {release.node_revision}, which a newer release made" in (
        refused.stderr
    ), refused.stderr
    # Nothing was lost: the person imported before the upgrade is still found across boroughs.
    assert "Hackney holds information" in _check(deployment, "lewisham", "William", "Okafor")

    # Running the site playbook again with the new release changes nothing.
    again = deployment.run(str(PLAYBOOKS / "site.yml"))
    assert again.returncode == 0, _failures(again)
    assert {host: c["changed"] for host, c in _recap(again.stdout).items()} == dict.fromkeys(
        HOSTS, 0
    ), again.stdout[-6000:]


def test_an_upgrade_stops_at_the_first_failure_and_a_restore_brings_services_back(
    deployment: Deployment,
) -> None:
    hackney = deployment.root / "nodes" / "hackney"
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

    # A user added after the last backup is gone once the backup is restored. That backup
    # (and the coordinator's) was taken before the upgrade, at the older schema: the restore
    # replaces the store whole, then migrates it to the running release's.
    admin = _admin(deployment, "hackney")
    added = deployment.node(
        "hackney", "user", "add", "j.smith", "--role", "mash-manager", "--name", "Jo Smith",
        env={**admin, "MASH_NEW_PASSWORD": MANAGER_PASSWORD},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    restored = deployment.run(
        str(PLAYBOOKS / "restore.yml"),
        "--limit",
        "programme,hackney",
        "-e",
        "mash_restore_from=latest",
    )
    assert restored.returncode == 0, _failures(restored)
    assert set(_recap(restored.stdout)) == {"programme", "hackney"}
    users = deployment.node("hackney", "user", "list", env=admin)
    assert users.returncode == 0, users.stderr
    assert "admin" in users.stdout and "j.smith" not in users.stdout
    release = deployment.release
    assert release is not None, "the upgrade test runs first"
    assert deployment.schema("coordinator") == (release.coordinator_revision, [release.version])
    assert deployment.schema("hackney") == (release.node_revision, [release.version])
    for host in ("programme", "hackney"):
        assert "Sign in" in _sign_in_page(deployment.ports[WEB[host]])
    assert _peer_reached(deployment, "lambeth", "hackney")
    refreshed = deployment.node("lewisham", "peers", "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "Hackney holds information" in _check(deployment, "lewisham", "William", "Okafor")
