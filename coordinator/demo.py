"""`mash-coordinator demo`: a coordinator for a demonstration, in one command.

In DIR (default `demo-coordinator`): a configuration (web on 127.0.0.1:PORT over plain HTTP,
gRPC on 127.0.0.1:GRPC_PORT), `init` (store, seeded plan, key, federation CA, the coordinator's
TLS identity), three accounts (an administrator, a project-team editor and a viewer, with their
passwords and TOTP secrets printed and kept in DIR/demo-accounts.txt), and the demo data: the plan
as if the pilot began two years ago and two years of synthetic figures for every authority but
those named by --skip (their real demo nodes send theirs). Run again, it keeps everything and
serves. The hub nodes of a demo enrol with it (`mash-coordinator enrol-token`, then
`mash-node enrol`; `mash-node demo` does both), as real ones do; the coordinator tells them its
gRPC address as 127.0.0.1:GRPC_PORT.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from coordinator import users
from coordinator.access import Actor
from coordinator.auth.totp import enrol_for_demo
from coordinator.config import load_config, render_config
from coordinator.evaluation.demo_data import write_demo_data
from coordinator.rollout.seed import seed
from coordinator.runtime import Coordinator
from coordinator.store.models import Role
from mash_common import ca

ACCOUNTS = (
    ("demo.admin", "Demo administrator", Role.ADMINISTRATOR),
    ("demo.editor", "Demo project team editor", Role.EDITOR),
    ("demo.viewer", "Demo viewer", Role.VIEWER),
)


def prepare(directory: Path, *, port: int, grpc_port: int, skip: tuple[str, ...]) -> Path:
    """Make the demo coordinator in `directory` if it is not there; returns its config path."""
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "coordinator.toml"
    accounts_file = directory / "demo-accounts.txt"
    if config_path.exists() and accounts_file.exists():
        print(f"Keeping the demo coordinator in {directory}")
        print(accounts_file.read_text(encoding="utf-8"))
        return config_path
    config_path.write_text(
        render_config(web_port=port, grpc_port=grpc_port, secure=False).replace(
            '# address = "coordinator.example.org:50070"',
            f'address = "127.0.0.1:{grpc_port}"',
        ),
        encoding="utf-8",
    )
    config = load_config(config_path)
    ca.init_ca(config.grpc.ca_dir)
    if not (config.tls_dir / "tls.key").exists():
        ca.issue_coordinator_with_key(config.grpc.ca_dir, config.tls_dir)
    lines = [f"Demo coordinator accounts ({config.name}); sign in at http://127.0.0.1:{port}/"]
    with Coordinator.initialise(config) as coordinator:
        with coordinator.unit_of_work() as session:
            seed(session)
            for username, name, role in ACCOUNTS:
                password = f"Demo-{secrets.token_urlsafe(9)}"
                users.add_user(
                    session,
                    Actor("system:demo", Role.ADMINISTRATOR),
                    username=username,
                    display_name=name,
                    role=role,
                    password=password,
                )
                secret = enrol_for_demo(session, coordinator.keys, username)
                lines.append(f"  {username:12} {role.value:20} password {password}  TOTP {secret}")
        with coordinator.unit_of_work() as session:
            written = write_demo_data(session, skip=skip)
    lines.append(
        f"Demo data: {written.reports} monthly reports, {written.first} to {written.last} "
        f"(none for: {', '.join(skip) or 'no borough left out'})"
    )
    lines.append(
        "A TOTP code: .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\""
    )
    text = "\n".join(lines) + "\n"
    accounts_file.write_text(text, encoding="utf-8")
    accounts_file.chmod(0o600)
    print(text)
    return config_path
