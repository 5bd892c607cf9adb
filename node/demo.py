"""The demo: three borough hub nodes (Hackney, Lambeth, Southwark) that check each other, with
demo accounts and synthetic agency data whose populations overlap (families who moved between
the boroughs, recorded by each borough's agencies in their own way), ready to try.

Each node has its own directory, store, keys, web UI and federation port; the three share the
demo accounts. Lambeth has a contact about a child who moved from Hackney, so "Check other
boroughs" finds something. The programme's coordinator serves beside them (set up by its own
command in `coordinator/`), with its seeded rollout plan and synthetic figures for the other
boroughs. The nodes enrol through it as real ones do: for each, the coordinator issues a
one-time token and the node enrols with it (its key and certificate request made on the node,
its certificate from the coordinator's CA); each node then takes its peers from the
coordinator's signed directory, sends it heartbeats and audit checkpoints, and queues its
monthly evaluation figures and sends them as it serves.
Running it again keeps what is there: the nodes, their keys, accounts and audit logs; the
extracts are imported again, which updates records in place.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import random
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node import users
from node.access import Actor
from node.agencies import STANDARD_AGENCIES, sync_agencies
from node.auth.totp import enrol_totp_for_demo
from node.demo_referrals import (
    MOVED_CHILD_ACCOUNT,
    seed_moved_child_referral,
    seed_referrals,
    subject_of,
)
from node.errors import DomainError
from node.federation import index
from node.federation.local import LocalNode, make_local_federation
from node.importing.service import import_files
from node.referrals.intake import PersonDetails
from node.runtime import Node
from node.store.models import (
    EvaluationReportQueue,
    InformationItem,
    MatchCandidate,
    PersonRecord,
    Referral,
    ReferralPerson,
    Role,
    User,
)
from node.synthetic.population import Household, iter_households, moved_to
from node.web.serve import require_free_port

BOROUGHS = (("hackney", "Hackney"), ("lambeth", "Lambeth"), ("southwark", "Southwark"))
MOVES = (("hackney", "lambeth", 30), ("lambeth", "southwark", 20), ("southwark", "hackney", 15))
FEDERATION_PORT = 50051
COORDINATOR_GRPC_PORT = 50070
COORDINATOR_ENROL_PORT = 50071
COORDINATOR_DIR = "coordinator"
ACCOUNTS_FILE = "demo-accounts.txt"
SEED = 1
PR_SET_PDEATHSIG = 1


def demo_accounts() -> list[tuple[str, str, Role, str | None]]:
    """(username, name, role, agency) of every demo account (the same in every borough)."""
    accounts: list[tuple[str, str, Role, str | None]] = [
        ("admin", "Demo node administrator", Role.NODE_ADMIN, None),
        ("manager", "Demo MASH manager", Role.MASH_MANAGER, None),
        ("auditor", "Demo auditor", Role.AUDITOR, None),
        ("analyst", "Demo partnership analyst", Role.PARTNERSHIP_ANALYST, None),
    ]
    for code, agency in STANDARD_AGENCIES.items():
        accounts.append(
            (code, f"Demo {agency.name.lower()} professional", Role.AGENCY_PROFESSIONAL, code)
        )
    return accounts


@dataclass(frozen=True)
class DemoBorough:
    local: LocalNode
    records: int
    subjects: int
    candidates: int
    moved_referral: str | None
    moved_holders: tuple[str, ...] = ()  # the agencies holding items on that child in Hackney


def run_demo(
    directory: Path, households: int = 400, *, serve: bool = False, port: int | None = None
) -> int:
    """Set up (or keep) the three boroughs in `directory`; with `serve`, serve them until
    Ctrl-C. `port` is the first web port (8080): the others follow it."""
    directory = directory.resolve()
    web = [(port or 8080) + n for n in range(len(BOROUGHS))]
    grpc = [FEDERATION_PORT + n for n in range(len(BOROUGHS))]
    coordinator_web = web[-1] + 1
    if serve:
        ports = (*web, *grpc, coordinator_web, COORDINATOR_GRPC_PORT, COORDINATOR_ENROL_PORT)
        for number in ports:  # before set-up
            require_free_port("127.0.0.1", number)
    nodes = make_local_federation(
        directory,
        BOROUGHS,
        agencies=list(STANDARD_AGENCIES),
        web_ports=web,
        federation_ports=grpc,
        extra_config=f'\n[coordinator]\naddress = "127.0.0.1:{COORDINATOR_GRPC_PORT}"\n',
        through_coordinator=True,
    )
    coordinator = _coordinator(directory, nodes, coordinator_web)
    _enrol(coordinator, nodes)
    accounts = _accounts(directory / ACCOUNTS_FILE)
    arrived = _moves(households)
    boroughs = [_set_up(local, households, accounts, arrived[local.borough]) for local in nodes]
    _print_welcome(directory, boroughs, accounts, coordinator)
    if serve:
        return _serve(boroughs, coordinator)
    return 0


@dataclass(frozen=True)
class DemoCoordinator:
    config_path: Path
    web_port: int
    accounts: str  # as the coordinator's demo wrote them: who, role, password, TOTP secret


def _coordinator(directory: Path, nodes: Sequence[LocalNode], web_port: int) -> DemoCoordinator:
    """The programme's coordinator, with its seeded rollout plan and two years of synthetic
    figures for the boroughs without a demo node. It is set up by its own command (the node
    never imports the coordinator); its CA is the demo's, and the nodes enrol with it."""
    folder = directory / COORDINATOR_DIR
    folder.mkdir(parents=True, exist_ok=True)
    shared_ca = folder / "ca"
    if not shared_ca.exists():
        shared_ca.symlink_to(Path("..") / "ca", target_is_directory=True)
    codes = ",".join(code for code, _ in BOROUGHS)
    _coordinator_command(
        "demo", "--dir", str(folder), "--port", str(web_port),
        "--grpc-port", str(COORDINATOR_GRPC_PORT), "--skip", codes, "--no-serve",
    )  # fmt: skip
    config = folder / "coordinator.toml"
    accounts = (folder / "demo-accounts.txt").read_text(encoding="utf-8")
    return DemoCoordinator(config, web_port, accounts)


def _enrol(coordinator: DemoCoordinator, nodes: Sequence[LocalNode]) -> None:
    """Enrol every node not yet enrolled, as ops would: the coordinator serves (on free ports,
    for the set-up only), issues each a one-time token, and the node enrols with it and fetches
    the signed directory once all have."""
    from mash_common.enrolment import parse_token
    from node.config import load_config
    from node.federation.directory import fetch_directory
    from node.federation.enrolment import enrol
    from node.keys import load_enrolment, load_tls

    waiting = [n for n in nodes if load_enrolment(n.directory / "data" / "keys") is None]
    if not waiting:
        return
    log = (coordinator.config_path.parent / "enrolment.log").open("a", encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 - this interpreter, the demo's own coordinator
        [
            sys.executable,
            "-m",
            "coordinator.cli",
            "--config",
            str(coordinator.config_path),
            "serve",
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--enrol-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        preexec_fn=_die_with_parent,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        if not lines[2].startswith("Enrolment on "):
            raise DemoError(f"the coordinator did not start to enrol the nodes: {lines}")
        enrol_at = lines[2].removeprefix("Enrolment on ").strip()
        for local in waiting:
            token = subprocess.run(  # noqa: S603 - this interpreter, the demo's own coordinator
                [
                    sys.executable,
                    "-m",
                    "coordinator.cli",
                    "--config",
                    str(coordinator.config_path),
                    "enrol-token",
                    "--borough",
                    local.borough,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if token.returncode != 0:
                raise DemoError(f"no enrolment token for {local.borough}: {token.stderr.strip()}")
            config = load_config(local.config_path)
            enrol(config, enrol_at, parse_token(token.stdout), endpoint=local.federation_address)
            print(f"{local.name}: enrolled through the coordinator")
        grpc_at = lines[1].removeprefix("gRPC on ").strip()
        for local in nodes:
            config = load_config(local.config_path)
            settings = config.coordinator
            assert settings is not None
            set_up = replace(config, coordinator=replace(settings, address=grpc_at))
            fetch_directory(set_up, load_tls(config.keys_dir))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        log.close()


def _coordinator_command(*args: str) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, the demo's own coordinator
        [sys.executable, "-m", "coordinator.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DemoError(f"mash-coordinator {' '.join(args[:3])}: {done.stderr.strip()}")


class DemoError(DomainError):
    """A step of the demo's set-up failed (its message says which, and why)."""


def _moves(households: int) -> dict[str, list[Household]]:
    """The families that moved between the demo's boroughs, by where they arrived."""
    rng = random.Random(f"demo-moves:{SEED}")
    arrived: dict[str, list[Household]] = {code: [] for code, _ in BOROUGHS}
    for origin, destination, count in MOVES:
        seed = SEED + [code for code, _ in BOROUGHS].index(origin)
        population = list(iter_households(origin, households, random.Random(seed)))
        with_children = [h for h in population if h.children]
        chosen = with_children[: min(count, len(with_children))]
        arrived[destination] += [moved_to(h, destination, rng) for h in chosen]
    return arrived


def _set_up(
    local: LocalNode,
    households: int,
    accounts: dict[str, tuple[str, str]],
    newcomers: Sequence[Household],
) -> DemoBorough:
    from node.synthetic.extracts import write_extracts

    seed = SEED + [code for code, _ in BOROUGHS].index(local.borough)
    with Node.initialise(local.config_path) as node:
        admin = _users(node, accounts)
        files = write_extracts(
            local.borough,
            list(STANDARD_AGENCIES),
            local.directory / "extracts",
            households=households,
            seed=seed,
            newcomers=newcomers,
        )
        by_agency: dict[str, list[Path]] = {}
        for file in files:
            by_agency.setdefault(file.agency, []).append(Path(file.path))
        for agency, paths in by_agency.items():
            with node.unit_of_work(admin) as session:
                import_files(session, admin, agency, paths)
        with node.unit_of_work() as session:
            seed_referrals(session, node.config.referrals)
            moved_referral, moved_holders = _moved_child_referral(
                session,
                node,
                local.borough,
                newcomers,
                local.directory.parent / "hackney" / "node.toml",
            )
        index.refresh(node)
        _queue_reports(node)
        with node.reading() as session:
            records = session.scalar(select(func.count()).select_from(PersonRecord)) or 0
            subjects = (
                session.scalar(select(func.count(func.distinct(PersonRecord.subject_id)))) or 0
            )
            candidates = session.scalar(select(func.count()).select_from(MatchCandidate)) or 0
    print(f"{local.name}: {records:,} agency records imported, linked into {subjects:,} subjects")
    return DemoBorough(local, records, subjects, candidates, moved_referral, moved_holders)


def _queue_reports(node: Node) -> None:
    """Last month's and this month's evaluation figures, queued for the coordinator (each month
    once: a later run leaves them be); the serving node sends them."""
    from node.evaluation import monthly_figures
    from node.federation import reports
    from node.federation.info import software_version

    today = dt.date.today().replace(day=1)
    months = [(today - dt.timedelta(days=1)).replace(day=1), today]
    with node.reading() as session:
        queued = set(  # a report refused (e.g. before its node was listed) is queued again
            session.scalars(
                select(EvaluationReportQueue.month).where(
                    EvaluationReportQueue.state != reports.REFUSED
                )
            )
        )
    for month in months:
        if f"{month:%Y-%m}" in queued:
            continue
        with node.reading() as session:
            figures = monthly_figures(
                session, month, node.config.referrals, software_version=software_version()
            )
        reports.queue_report(node, figures)


def _moved_child_referral(
    session: Session, node: Node, borough: str, newcomers: Sequence[Household], origin: Path
) -> tuple[str | None, tuple[str, ...]]:
    """In Lambeth, a contact about a child whose family came from Hackney: the child under 16
    whose Hackney records hold the most agencies' items (police and health first), so that a
    disclosure from Hackney has items for several agencies to decide."""
    if borough != "lambeth":
        return None, ()
    today = dt.date.today()
    children = [
        person
        for household in newcomers
        for person in household.children
        if person.age_on(today) < 16 and person.nhs_number
    ]
    if not children:
        return None, ()
    held = _agencies_with_items(origin, [person.nhs_number for person in children])
    made = session.execute(  # on a later run: the child of the referral made before
        select(ReferralPerson.forenames, ReferralPerson.surname, ReferralPerson.date_of_birth)
        .join(Referral, Referral.id == ReferralPerson.referral_id)
        .where(Referral.account.like(f"%{MOVED_CHILD_ACCOUNT}%"))
    ).first()
    earlier = [p for p in children if made and (p.forenames, p.surname, p.date_of_birth) == made]
    person = max(
        earlier or children,
        key=lambda p: (
            {"police", "health"} <= held.get(p.nhs_number.replace(" ", ""), set()),
            len(held.get(p.nhs_number.replace(" ", ""), set())),
        ),
    )
    child = PersonDetails(
        surname=person.surname,
        forenames=person.forenames,
        date_of_birth=person.date_of_birth,
        address=person.address,
        postcode=person.postcode,
    )
    subject = subject_of(session, child, person.nhs_number)
    child = PersonDetails(**{**child.__dict__, "subject_id": subject})
    reference = seed_moved_child_referral(session, node.config.referrals, child, "Hackney")
    return reference, tuple(sorted(held.get(person.nhs_number.replace(" ", ""), set())))


def _agencies_with_items(origin: Path, nhs_numbers: Sequence[str]) -> dict[str, set[str]]:
    """Which agencies of the borough at `origin` hold items on each of these NHS numbers' people
    (on any record of the hub subject the number belongs to, as a disclosure's match finds)."""
    numbers = [number.replace(" ", "") for number in nhs_numbers]
    found: dict[str, set[str]] = {}
    with Node.open(origin) as node, node.reading() as session:
        subjects = dict(
            session.execute(
                select(PersonRecord.subject_id, PersonRecord.nhs_number_norm).where(
                    PersonRecord.nhs_number_norm.in_(numbers)
                )
            ).all()
        )
        for subject, agency in session.execute(
            select(PersonRecord.subject_id, PersonRecord.agency_code)
            .join(InformationItem, InformationItem.record_id == PersonRecord.id)
            .where(PersonRecord.subject_id.in_(list(subjects)))
        ):
            found.setdefault(subjects[subject], set()).add(agency)
    return found


def _users(node: Node, accounts: dict[str, tuple[str, str]]) -> Actor:
    """The demo accounts in this borough (each with its TOTP secret), kept if already there."""
    with node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
        users.create_first_admin(
            session,
            username="admin",
            display_name="Demo node administrator",
            password=accounts["admin"][0],
        )
        admin = users.actor_for(session.scalars(select(User).where(User.username == "admin")).one())
        existing = {u.username: u for u in session.scalars(select(User))}
        for username, name, role, agency in demo_accounts():
            if username not in existing:
                users.add_user(
                    session,
                    admin,
                    username=username,
                    display_name=name,
                    role=role,
                    agency_code=agency,
                    password=accounts[username][0],
                )
            user = existing.get(username)
            if user is None or user.totp_secret is None:
                enrol_totp_for_demo(session, node.keys, username, accounts[username][1])
    return admin


def _accounts(path: Path) -> dict[str, tuple[str, str]]:
    """Each demo account's password and TOTP secret: made once, kept (readable by the owner
    only) for later runs, the same in every borough."""
    from node.auth.totp import new_secret

    held: dict[str, tuple[str, str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                held[parts[0]] = (parts[1], parts[2])
    for username, *_ in demo_accounts():
        held.setdefault(username, (secrets.token_urlsafe(12), new_secret()))
    path.touch(mode=0o600)
    path.write_text(
        "".join(f"{user}\t{password}\t{secret}\n" for user, (password, secret) in held.items()),
        encoding="utf-8",
    )
    return held


def _serve(boroughs: Sequence[DemoBorough], coordinator: DemoCoordinator) -> int:
    """Serve the coordinator and every borough (web UI and federation) until Ctrl-C or SIGTERM,
    then stop them all (and they stop by themselves if this process dies)."""
    processes: list[subprocess.Popen[str]] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        commands = [
            (
                "The coordinator",
                [
                    "coordinator.cli",
                    "--config",
                    str(coordinator.config_path),
                    "serve",
                    "--port",
                    str(coordinator.web_port),
                    "--grpc-port",
                    str(COORDINATOR_GRPC_PORT),
                    "--enrol-port",
                    str(COORDINATOR_ENROL_PORT),
                ],
            ),
            *(
                (b.local.name, ["node.cli", "--config", str(b.local.config_path), "serve"])
                for b in boroughs
            ),
        ]
        for _, command in commands:
            processes.append(
                subprocess.Popen(  # noqa: S603 - this interpreter, the demo's own configs
                    [sys.executable, "-m", *command],
                    stdout=subprocess.PIPE,
                    text=True,
                    preexec_fn=_die_with_parent,
                )
            )
        for (name, _), process in zip(commands, processes, strict=True):
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("Listening on"):
                print(f"{name} did not start: see the lines above", file=sys.stderr)
                return 1
            print(f"{name}: {line.strip()}", flush=True)
        print("The coordinator and all three boroughs are serving. Ctrl-C stops them.", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        return 1  # one stopped on its own: its error is above
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In a served borough's process: end if the demo's process dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: Ctrl-C and SIGTERM still stop the boroughs


def _print_welcome(
    directory: Path,
    boroughs: Sequence[DemoBorough],
    accounts: dict[str, tuple[str, str]],
    coordinator: DemoCoordinator,
) -> None:
    print()
    print("Demo federation of three hub nodes is ready. All data is synthetic.")
    for borough in boroughs:
        local = borough.local
        print(
            f"  {local.name:<10} http://{local.host}:{local.web_port}/   "
            f"({borough.records:,} records, {borough.subjects:,} subjects, "
            f"{borough.candidates:,} candidate links)   config {local.config_path}"
        )
    print()
    print(f"Demo accounts (the same in every borough; also in {directory / ACCOUNTS_FILE}):")
    for username, name, role, _agency in demo_accounts():
        password, secret = accounts[username]
        print(f"  {username:<22} {password:<18} {secret:<34} {role.value}: {name}")
    print("Sign in with the password, then a code from an authenticator app holding the secret,")
    print("or print the current code with:")
    print("  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"")
    print()
    lambeth = next(b for b in boroughs if b.local.borough == "lambeth")
    if lambeth.moved_referral:
        print(
            f"Try: sign in to Lambeth as manager, open referral {lambeth.moved_referral} (a child "
            "who moved from Hackney)"
        )
        print("and press 'Check other boroughs'; then 'Ask Hackney for what it holds'.")
        print("In Hackney, as manager, open 'Disclosure requests' and match the child; as each of")
        print(
            f"{', '.join(lambeth.moved_holders) or 'the agencies'}, decide on your agency's items;"
        )
        print(
            "as manager, send the answer. It arrives on Lambeth's referral and information product."
        )
    print(
        "In every borough, the manager's queue flags one child for cumulative harm (police, "
        "health and a school in six"
    )
    print(
        "weeks): follow its 'Cumulative harm' tag to see why. The referral lists the agencies "
        "involved with the family;"
    )
    print("as analyst, open 'Strategic assessment' (aggregates only) and export it.")
    print()
    print("From the command line (Lambeth's manager):")
    config = shlex.quote(str(lambeth.local.config_path))
    password = accounts["manager"][0]
    print(f"  export MASH_NODE_CONFIG={config} MASH_USER=manager MASH_PASSWORD={password}")
    print("  .venv/bin/mash-node peers list")
    print(
        "  .venv/bin/mash-node check --surname SURNAME --forenames FORENAME --date-of-birth "
        "YYYY-MM-DD --purpose 'demo check'"
    )
    print(
        f"  MASH_USER=auditor MASH_PASSWORD={accounts['auditor'][0]} .venv/bin/mash-node audit verify"
    )
    print()
    print(
        f"The programme's coordinator: http://127.0.0.1:{coordinator.web_port}/ (its rollout "
        "plan, and the evaluation"
    )
    print("figures every borough reports; the three demo boroughs send theirs as they serve).")
    for line in coordinator.accounts.splitlines()[1:]:
        if line.startswith("  "):
            print(line)
