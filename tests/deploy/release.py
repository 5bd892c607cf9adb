"""A newer release of the software, built here for the upgrade test: the project's source with
its version raised and one more migration for the node's store and one for the coordinator's
(each a table with a row naming the release), built into a wheel; and a virtual environment
for it, into which the playbooks' pip task installs the wheel. The environment's dependencies
are linked from the project's own, since the tests download nothing (`--no-index`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REHEARSAL_TABLE = "upgrade_rehearsal"
SOURCES = ("pyproject.toml", "README.md", "node", "coordinator", "mash_common", "protos")

MIGRATION = '''"""upgrade rehearsal: the migration a test build of {version} adds

Revision ID: {revision}
Revises: {down_revision}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "{table}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release", sa.String(length=20), nullable=False),
    )
    op.bulk_insert(table, [{{"id": 1, "release": "{version}"}}])


def downgrade() -> None:
    op.drop_table("{table}")
'''


@dataclass(frozen=True)
class Release:
    version: str
    wheel: Path
    venv: Path
    node_revision: str  # the newest migration of the node's store in this release
    coordinator_revision: str

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"


def _raise_version(pyproject: Path) -> str:
    text = pyproject.read_text()
    found = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"$', text, re.MULTILINE)
    assert found, f'{pyproject}: no version = "X.Y.Z" line'
    major, minor, patch = (int(part) for part in found.groups())
    version = f"{major}.{minor}.{patch + 1}"
    pyproject.write_text(text[: found.start()] + f'version = "{version}"' + text[found.end() :])
    return version


def _add_migration(versions: Path, version: str) -> str:
    revisions = [
        re.search(r'^revision = "(\d+)"$', path.read_text(), re.MULTILINE)[1]
        for path in versions.glob("*.py")
    ]
    down_revision = max(revisions)  # numbered 0001, 0002, ...
    revision = f"{int(down_revision) + 1:04d}"
    (versions / f"{revision}_upgrade_rehearsal.py").write_text(
        MIGRATION.format(
            version=version,
            revision=revision,
            down_revision=down_revision,
            table=REHEARSAL_TABLE,
        )
    )
    return revision


def _link_dependencies(venv: Path) -> None:
    """The project's installed dependencies, hard-linked into the new environment: everything
    in the project's site-packages but the project itself (installed editable) and the
    environment's own pip and setuptools."""
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    theirs = theirs / "site-packages"
    skip = re.compile(r"^(pip|setuptools|_distutils_hack|pkg_resources|distutils-precedence)\b")
    for entry in ours.iterdir():
        target = theirs / entry.name
        if target.exists() or skip.match(entry.name) or "mash_federation" in entry.name:
            continue
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=os.link)
        else:
            os.link(entry, target)


def build_newer_release(project: Path, work: Path) -> Release:
    source = work / "source"
    source.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (project / name).is_dir():
            shutil.copytree(project / name, source / name, ignore=ignore)
        else:
            shutil.copy2(project / name, source / name)
    version = _raise_version(source / "pyproject.toml")
    node_revision = _add_migration(source / "node/store/migrations/versions", version)
    coordinator_revision = _add_migration(source / "coordinator/store/migrations/versions", version)
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob(f"mash_federation-{version}-*.whl")
    venv = work / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run(
        [base_python, "-m", "venv", str(venv)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _link_dependencies(venv)
    return Release(version, wheel, venv, node_revision, coordinator_revision)
