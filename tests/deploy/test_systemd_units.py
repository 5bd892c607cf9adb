"""The production services' systemd units (mash_service_manager: systemd), as the roles render
them from their defaults, checked by systemd's own `systemd-analyze verify`: no unknown key, no
warning, the command it starts exists; and hardened as the README says. This machine has no
systemd running, so the deployment tests run the services in the process mode; this is what
can be checked of the units here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "playbooks" / "roles"
BIN = Path(sys.executable).parent
UNITS = {  # unit file: (role, template, the system user it runs as)
    "mash-node-hackney.service": ("node", "mash-node.service.j2", "mash-hackney"),
    "mash-coordinator.service": ("coordinator", "mash-coordinator.service.j2", "mash-coordinator"),
}
HARDENING = (
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "PrivateTmp=true",
    "Restart=on-failure",
    "CapabilityBoundingSet=",
)


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each unit rendered by Ansible's template module with the roles' defaults (the software
    where this test's venv has it, so that its command exists)."""
    out = tmp_path_factory.mktemp("units")
    tasks = [
        {
            "name": f"Render {unit}",
            "ansible.builtin.template": {
                "src": str(ROLES / role / "templates" / template),
                "dest": str(out / unit),
                "mode": "0644",
            },
        }
        for unit, (role, template, _) in UNITS.items()
    ]
    play = [
        {
            "name": "Render the systemd units",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [
                str(ROLES / role / "defaults" / "main.yml")
                for role in ("common", "node", "coordinator")
            ],
            "tasks": tasks,
        }
    ]
    playbook = out / "render.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
         "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"mash_bin_dir={BIN}",
         "-e", "mash_node_borough_code=hackney"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(out / ".tmp"), "PYTHONWARNINGS": "ignore",
             "ANSIBLE_NOCOLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return {unit: (out / unit).read_text() for unit in UNITS} | {"_dir": str(out)}


@pytest.mark.parametrize("unit", list(UNITS))
def test_systemd_accepts_the_unit_without_a_warning(units: dict[str, str], unit: str) -> None:
    analyze = "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        pytest.fail("systemd-analyze is missing: `make system-deps` installs Debian's systemd")
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(Path(units["_dir"]) / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stdout + done.stderr


@pytest.mark.parametrize("unit", list(UNITS))
def test_the_unit_runs_the_service_as_its_own_user_hardened(
    units: dict[str, str], unit: str
) -> None:
    text = units[unit]
    assert f"\nUser={UNITS[unit][2]}\n" in text
    for line in HARDENING:
        assert f"\n{line}\n" in text, (unit, line)
    assert f"ExecStart={BIN}/" in text and " serve\n" in text
