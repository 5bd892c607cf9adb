"""The demo: a Hackney hub node with demo accounts and synthetic agency data, ready to try.

Running it again keeps what is there: the node, its keys, its accounts and its audit log;
the extracts are re-imported, which updates records in place.
"""

from __future__ import annotations

import secrets
import shlex
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node import users
from node.agencies import STANDARD_AGENCIES, sync_agencies
from node.config import load_config, render_config
from node.demo_referrals import seed_referrals
from node.importing.service import import_files
from node.keys import NodeKeys
from node.runtime import Node
from node.store.models import MatchCandidate, PersonRecord, Role, Subject, User
from node.web.serve import require_free_port

BOROUGH = ("hackney", "Hackney")
ACCOUNTS_FILE = "demo-accounts.txt"


def demo_accounts() -> list[tuple[str, str, Role, str | None]]:
    """(username, name, role, agency) of every demo account."""
    accounts: list[tuple[str, str, Role, str | None]] = [
        ("admin", "Demo node administrator", Role.NODE_ADMIN, None),
        ("manager", "Demo MASH manager", Role.MASH_MANAGER, None),
        ("auditor", "Demo auditor", Role.AUDITOR, None),
    ]
    for code, agency in STANDARD_AGENCIES.items():
        accounts.append(
            (code, f"Demo {agency.name.lower()} professional", Role.AGENCY_PROFESSIONAL, code)
        )
    return accounts


def run_demo(
    directory: Path, households: int = 400, *, serve: bool = False, port: int | None = None
) -> int:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "node.toml"
    if not config_path.exists():
        text = render_config(*BOROUGH, list(STANDARD_AGENCIES))
        # The demo serves plain HTTP on 127.0.0.1; a real node sits behind TLS (secure cookies).
        text += '\n[web]\nhost = "127.0.0.1"\nport = 8080\nsecure_cookies = false\n'
        config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    port = config.web.port if port is None else port
    if serve:
        require_free_port(config.web.host, port)  # before the set-up, not after it
    with Node.initialise(config) as node:
        _set_up(node, directory, households, config_path)
    if serve:
        from node.web.serve import run

        print(f"Web UI: http://{config.web.host}:{port}/  (Ctrl-C to stop)")
        run(config, port=port)
    return 0


def _set_up(node: Node, directory: Path, households: int, config_path: Path) -> None:
    secrets_file = directory / ACCOUNTS_FILE
    passwords = _passwords(secrets_file)
    with node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
        users.create_first_admin(
            session,
            username="admin",
            display_name="Demo node administrator",
            password=passwords["admin"],
        )
        admin = users.actor_for(session.scalars(select(User).where(User.username == "admin")).one())
        existing = set(session.scalars(select(User.username)))
        for username, name, role, agency in demo_accounts():
            if username not in existing:
                users.add_user(
                    session,
                    admin,
                    username=username,
                    display_name=name,
                    role=role,
                    agency_code=agency,
                    password=passwords[username],
                )
        totp = _totp_secrets(session, node.keys, secrets_file)

    from node.synthetic.extracts import write_extracts

    extracts = directory / "extracts"
    files = write_extracts(
        BOROUGH[0], list(STANDARD_AGENCIES), extracts, households=households, seed=1
    )
    by_agency: dict[str, list[Path]] = {}
    for file in files:
        by_agency.setdefault(file.agency, []).append(Path(file.path))
    for agency, paths in by_agency.items():
        with node.unit_of_work(admin) as session:
            result = import_files(session, admin, agency, paths)
        rows = ", ".join(f"{f.rows} {f.kind}" for f in result.files)
        print(f"Imported {STANDARD_AGENCIES[agency].name}: {rows}")

    with node.unit_of_work() as session:
        seeded = seed_referrals(session, node.config.referrals)
    if seeded:
        print(f"Recorded {seeded} demo referrals in different states")

    with node.reading() as session:
        records = session.scalar(select(func.count()).select_from(PersonRecord))
        subjects = session.scalar(
            select(func.count(func.distinct(PersonRecord.subject_id))).select_from(PersonRecord)
        )
        candidates = session.scalar(select(func.count()).select_from(MatchCandidate))
        shared = session.execute(
            select(
                PersonRecord.surname, func.count(func.distinct(PersonRecord.agency_code)).label("n")
            )
            .join(Subject, Subject.id == PersonRecord.subject_id)
            .group_by(PersonRecord.subject_id, PersonRecord.surname)
            .order_by(func.count(func.distinct(PersonRecord.agency_code)).desc())
            .limit(1)
        ).first()
    _print_welcome(
        config_path, records or 0, subjects or 0, candidates or 0, passwords, totp, shared
    )


def _read_accounts(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if "\t" in line)
    return {row[0]: row[1:] for row in rows}


def _write_accounts(path: Path, accounts: dict[str, list[str]]) -> None:
    path.touch(mode=0o600)
    text = "".join("\t".join([user, *values]) + "\n" for user, values in accounts.items())
    path.write_text(text, encoding="utf-8")


def _passwords(path: Path) -> dict[str, str]:
    """The demo accounts' passwords: made once, kept (readable by the owner only) for later runs."""
    accounts = _read_accounts(path)
    if not accounts:
        accounts = {username: [secrets.token_urlsafe(12)] for username, *_ in demo_accounts()}
        _write_accounts(path, accounts)
    return {user: values[0] for user, values in accounts.items()}


def _totp_secrets(session: Session, keys: NodeKeys, path: Path) -> dict[str, str]:
    """Every demo account is enrolled for TOTP once; the secrets are kept beside the passwords."""
    from node.auth.totp import enrol_totp_for_demo

    accounts = _read_accounts(path)
    for username, values in accounts.items():
        if len(values) < 2:
            values[1:] = [enrol_totp_for_demo(session, keys, username)]
    _write_accounts(path, accounts)
    return {user: values[1] for user, values in accounts.items()}


def _print_welcome(
    config_path: Path,
    records: int,
    subjects: int,
    candidates: int,
    passwords: dict[str, str],
    totp: dict[str, str],
    shared: tuple[str, int] | None,
) -> None:
    config = shlex.quote(str(config_path))
    print()
    print(
        f"Demo hub node for {BOROUGH[1]} is ready: {records} agency records, {subjects} subjects, "
    )
    print(f"{candidates} candidate links for a professional to review. All data is synthetic.")
    print()
    print(
        "Demo accounts (username, password, TOTP secret), also in",
        config_path.parent / ACCOUNTS_FILE,
    )
    for username, name, role, _agency in demo_accounts():
        print(
            f"  {username:<22} {passwords[username]:<18} {totp[username]:<34} {role.value}: {name}"
        )
    print("Add a TOTP secret to an authenticator app, or get the current code with:")
    print("  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"")
    print()
    surname = shared[0] if shared else "Smith"
    print(
        "Try, as the police professional (sees police records in full, other agencies as counts):"
    )
    print(
        f"  export MASH_NODE_CONFIG={config} MASH_USER=police MASH_PASSWORD={passwords['police']}"
    )
    print(f"  .venv/bin/mash-node search --surname {shlex.quote(surname)} --purpose 'demo search'")
    print("  .venv/bin/mash-node subject candidates")
    print("As the auditor:")
    print(
        f"  MASH_USER=auditor MASH_PASSWORD={passwords['auditor']} .venv/bin/mash-node audit verify"
    )
    print(
        f"  MASH_USER=auditor MASH_PASSWORD={passwords['auditor']} .venv/bin/mash-node audit export "
        "--from 2020-01-01 --to 2099-12-31 --purpose 'demo audit review'"
    )
