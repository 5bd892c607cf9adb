"""`mash-coordinator`: the central project team's command line, a thin adapter over the services.

mash-coordinator init                      store (migrations), seeded plan, key, CA, TLS, admin
mash-coordinator serve                     web UI and the gRPC Evaluation service, one process
mash-coordinator user add|list|disable|enable|reset-two-factor
mash-coordinator nodes add --borough B --verify-key HEX --certificate CRT
mash-coordinator enrol-token --borough B   a one-time token for B's node to enrol with
mash-coordinator demo-data                 two years of synthetic figures (demo, benchmark)
mash-coordinator ca init|issue             the federation's certificate authority
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import re
import signal
import sys
from pathlib import Path

from coordinator import events, users
from coordinator.access import Actor
from coordinator.auth import attempts
from coordinator.config import ConfigError, load_config
from coordinator.errors import DomainError
from coordinator.runtime import Coordinator
from coordinator.store.models import Role
from mash_common import ca
from mash_common.boroughs import BoroughCodeInvalid, require_borough_code
from mash_common.files import PrivateFileError
from mash_common.pki import CertificateError, borough_of_certificate, load_certificate

DEFAULT_CONFIG = "coordinator.toml"
ROLES = {role.value: role for role in Role}


class CommandError(Exception):
    """A command cannot go ahead as asked; the message says why."""


# --- the coordinator --------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from coordinator.rollout.seed import seed

    config = load_config(args.config)
    password = _new_password(
        "MASH_PASSWORD", f"Password for the first administrator {args.admin_username}"
    )
    made_ca = ca.init_ca(config.grpc.ca_dir)
    tls_made = False
    if not (config.tls_dir / "tls.key").exists():
        ca.issue_coordinator_with_key(config.grpc.ca_dir, config.tls_dir)
        tls_made = True
    with Coordinator.initialise(config) as coordinator, coordinator.unit_of_work() as session:
        seeded = seed(session)
        admin = users.create_first_admin(
            session, username=args.admin_username, display_name=args.admin_name, password=password
        )
    print(f"Coordinator ready in {config.data_dir}")
    print(f"  plan seeded: {seeded.boroughs} authorities and {seeded.waves} waves added")
    print(
        f"  federation CA: {'created' if made_ca.created else 'kept'} in {config.grpc.ca_dir}; "
        f"coordinator TLS identity {'made' if tls_made else 'kept'} in {config.tls_dir}"
    )
    print(f"  first administrator: {admin.username if admin else 'already exists (unchanged)'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from coordinator.web.serve import run

    config = load_config(args.config)
    with Coordinator.open(config):  # refuse a store behind this release before binding
        pass
    if hasattr(signal, "SIGPIPE"):
        # A browser that goes away mid-response is the server's business, not a reason to die
        # (`main` lets SIGPIPE end the short commands quietly, as `| head` expects).
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    run(
        config,
        host=args.host,
        port=args.port,
        grpc_host=args.grpc_host,
        grpc_port=args.grpc_port,
        enrol_port=args.enrol_port,
    )
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    coordinator = _open(args)
    actor = _sign_in(coordinator, args.user)
    password = _new_password("MASH_NEW_PASSWORD", f"Password for {args.username}")
    with coordinator.unit_of_work(actor) as session:
        user = users.add_user(
            session,
            actor,
            username=args.username,
            display_name=args.name,
            role=ROLES[args.role],
            password=password,
        )
    print(f"Added {user.username} ({users.ROLE_NAMES[user.role]}); TOTP is set up at first sign-in")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    coordinator = _open(args)
    actor = _sign_in(coordinator, args.user)
    with coordinator.unit_of_work(actor) as session:
        rows = [
            (
                u.username,
                u.display_name,
                users.ROLE_NAMES[u.role],
                "disabled" if u.disabled else "active",
                "set up" if u.totp_secret else "at next sign-in",
            )
            for u in users.list_users(session, actor)
        ]
    _table(("username", "name", "role", "state", "two-factor"), rows)
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    coordinator = _open(args)
    actor = _sign_in(coordinator, args.user)
    disable = args.action == "disable"
    with coordinator.unit_of_work(actor) as session:
        users.set_disabled(session, actor, args.username, disable)
    print(f"{'Disabled' if disable else 'Enabled'} {args.username}")
    return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    coordinator = _open(args)
    actor = _sign_in(coordinator, args.user)
    with coordinator.unit_of_work(actor) as session:
        users.reset_second_factor(session, actor, args.username)
    print(f"{args.username} sets up a new authenticator at their next sign-in")
    return 0


def cmd_user_lift_delays(args: argparse.Namespace) -> int:
    coordinator = _open(args)
    actor = _sign_in(coordinator, args.user)
    with coordinator.unit_of_work(actor) as session:
        forgotten = attempts.lift(session, actor, args.username)
    print(
        f"{args.username} can sign in again without waiting "
        f"({forgotten} failed attempt(s) forgotten; each stays among the access events)"
    )
    return 0


def cmd_nodes_add(args: argparse.Namespace) -> int:
    """Append a [[nodes]] table to the config, after checking what it names."""
    config_path = Path(args.config).resolve()
    config = load_config(config_path)
    borough = require_borough_code(args.borough)
    if config.node(borough) is not None:
        raise CommandError(f"{config_path} already lists a node of {borough!r}")
    key = args.verify_key.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise CommandError("--verify-key: the node's Ed25519 verify key as 64 hex digits")
    certificate = Path(args.certificate).resolve()
    try:
        named = borough_of_certificate(load_certificate(certificate.read_bytes(), str(certificate)))
    except OSError as exc:
        raise CommandError(f"{certificate}: cannot read: {exc.strerror}") from None
    if named != borough:
        raise CommandError(f"{certificate} is {named!r}'s certificate, not {borough!r}'s")
    entry = (
        f'\n[[nodes]]\nborough = "{borough}"\nverify_key = "{key}"\ncertificate = "{certificate}"\n'
    )
    with config_path.open("a", encoding="utf-8") as handle:
        handle.write(entry)
    load_config(config_path)  # still valid
    print(f"Added {borough}'s node to {config_path}; restart `mash-coordinator serve` to use it")
    return 0


def cmd_enrol_token(args: argparse.Namespace) -> int:
    """A one-time enrolment token for a borough's node, printed once (its secret is kept sealed)."""
    from coordinator.nodes.tokens import issue_token

    coordinator = _open(args)
    hours = args.valid_hours or coordinator.config.directory.token_hours
    if not 1 <= hours <= 24 * 30:
        raise CommandError("--valid-hours: 1 to 720")
    borough = require_borough_code(args.borough)
    with coordinator.unit_of_work() as session:
        issued = issue_token(
            session,
            coordinator.keys,
            borough,
            valid_for=dt.timedelta(hours=hours),
            issued_by=f"cli:{getpass.getuser()}",
        )
        events.record(
            session,
            f"cli:{getpass.getuser()}",
            "node.enrolment-token-issued",
            borough=borough,
            token_id=issued.token.token_id,
        )
    settings = coordinator.config.grpc
    print(str(issued.token))
    print(
        f"One-time token for {borough}'s node, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC. "
        f"On the node: mash-node enrol --coordinator {settings.host}:{settings.enrol_port} "
        "--token <the token>",
        file=sys.stderr,
    )
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from coordinator.evaluation.demo_data import write_demo_data

    until = _month_arg(args.until, "--until") if args.until else None
    skip = tuple(code.strip() for code in args.skip.split(",") if code.strip()) if args.skip else ()
    coordinator = _open(args)
    with coordinator.unit_of_work() as session:
        written = write_demo_data(
            session, months=args.months, until=until, skip=skip, seed=args.seed
        )
    print(
        f"Demo data: {written.reports:,} monthly reports for {written.boroughs} boroughs, "
        f"{written.first} to {written.last}; the plan set as if the first hubs went live in "
        f"{written.first_live}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from coordinator.demo import prepare

    skip = tuple(code.strip() for code in args.skip.split(",") if code.strip()) if args.skip else ()
    config_path = prepare(Path(args.dir), port=args.port, grpc_port=args.grpc_port, skip=skip)
    if args.no_serve:
        return 0
    from coordinator.web.serve import run

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    run(load_config(config_path))
    return 0


# --- the federation CA ----------------------------------------------------------------------------


def cmd_ca_init(args: argparse.Namespace) -> int:
    made = ca.init_ca(args.dir)
    if made.created:
        print(f"Created the federation CA in {args.dir} (its key, ca.key, stays there)")
    else:
        print(f"Kept the federation CA already in {args.dir}")
    print(f"Give every node its certificate: {made.certificate}")
    return 0


def cmd_ca_issue(args: argparse.Namespace) -> int:
    if args.csr is not None:
        if args.out is None or args.out_dir is not None:
            raise CommandError("with --csr, give --out CERT (and not --out-dir)")
        try:
            csr = args.csr.read_bytes()
        except OSError as exc:
            raise CommandError(f"{args.csr}: cannot read: {exc.strerror}") from None
        if args.out.exists():
            raise CommandError(f"{args.out}: already exists; choose another --out")
        args.out.write_bytes(ca.issue(args.dir, args.borough, csr))
        print(f"Issued {args.borough}'s certificate: {args.out}")
        print(f"Install it on the node with the CA's certificate, {args.dir / ca.CA_CERT_FILE}")
        return 0
    if args.out_dir is None or args.out is not None:
        raise CommandError("give either --csr FILE --out CERT, or --out-dir DIR")
    files = ca.issue_with_key(args.dir, args.borough, args.out_dir)
    print(f"Made {args.borough}'s TLS key and certificate (for tests and demos only):")
    for path in (files.key, files.certificate, files.ca_certificate):
        print(f"  {path}")
    return 0


# --- helpers -----------------------------------------------------------------------------------


def _open(args: argparse.Namespace) -> Coordinator:
    coordinator = Coordinator.open(args.config)
    args.opened.append(coordinator)
    return coordinator


def _sign_in(coordinator: Coordinator, username: str | None) -> Actor:
    username = username or os.environ.get("MASH_USER")
    if not username:
        raise CommandError("say who you are: --user NAME (or set MASH_USER)")
    password = os.environ.get("MASH_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("no password: set MASH_PASSWORD or run from a terminal")
        password = getpass.getpass(f"Password for {username}: ")
    try:
        with coordinator.unit_of_work(commit_despite=(users.SignInFailed,)) as session:
            return users.authenticate(session, username, password)
    except users.SignInFailed as exc:
        raise CommandError(str(exc)) from None


def _new_password(variable: str, prompt: str) -> str:
    password = os.environ.get(variable)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise CommandError(f"no password given: set {variable} or run from a terminal")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ")
    return first


def _month_arg(text: str, flag: str) -> dt.date:
    from mash_common.evaluation import parse_month

    try:
        return parse_month(text)
    except ValueError:
        raise CommandError(f"{flag}: give a month as YYYY-MM, such as 2026-11") from None


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mash-coordinator",
        description="MASH federation coordinator: the London rollout, the evaluation figures the "
        "hub nodes send, the dashboards and reports, and the federation's certificate authority.",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("MASH_COORDINATOR_CONFIG", DEFAULT_CONFIG),
        help="configuration file (default: $MASH_COORDINATOR_CONFIG or ./coordinator.toml)",
    )
    parser.add_argument(
        "--user", help="who you are (default: $MASH_USER); password from $MASH_PASSWORD or a prompt"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init",
        help="create the store, seed the plan, the key, the CA, the TLS identity, the first admin",
        description="Create what is missing and keep what is there: the store (upgraded to this "
        "release), the London plan seeded from the founding report, the coordinator's key, the "
        "federation CA (grpc.ca_dir) and the coordinator's TLS identity, and the first "
        "administrator (password from $MASH_PASSWORD or a prompt).",
    )
    init.add_argument("--admin-username", default="admin")
    init.add_argument("--admin-name", default="Coordinator administrator")
    init.set_defaults(run=cmd_init)

    serve = commands.add_parser("serve", help="serve the web UI and the gRPC Evaluation service")
    serve.add_argument("--host", help="web address (default: web.host)")
    serve.add_argument("--port", type=int, help="web port (default: web.port; 0: any free one)")
    serve.add_argument("--grpc-host", help="gRPC address (default: grpc.host)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default: grpc.port; 0: any)")
    serve.add_argument(
        "--enrol-port", type=int, help="enrolment port (default: grpc.enrol_port; 0: any)"
    )
    serve.set_defaults(run=cmd_serve)

    user = commands.add_parser("user", help="the coordinator's users").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="add a user (password from $MASH_NEW_PASSWORD or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=sorted(ROLES))
    add.add_argument("--name", required=True, help="the person's name, as pages show it")
    add.set_defaults(run=cmd_user_add)
    user.add_parser("list", help="list users").set_defaults(run=cmd_user_list)
    for action in ("disable", "enable"):
        sub = user.add_parser(action, help=f"{action} a user")
        sub.add_argument("username")
        sub.set_defaults(run=cmd_user_disable, action=action)
    reset = user.add_parser("reset-two-factor", help="lost authenticator: set it up again")
    reset.add_argument("username")
    reset.set_defaults(run=cmd_user_reset)
    lift = user.add_parser(
        "lift-delays", help="let a user whose sign-in is slowed by failed attempts sign in now"
    )
    lift.add_argument("username")
    lift.set_defaults(run=cmd_user_lift_delays)

    nodes = commands.add_parser("nodes", help="the hub nodes that report").add_subparsers(
        dest="nodes_command", required=True
    )
    node_add = nodes.add_parser(
        "add",
        help="add a node to the config: its borough, verify key and certificate",
        description="Append a [[nodes]] table to the configuration file. The node's "
        "`mash-node report --identity` prints its verify key and certificate.",
    )
    node_add.add_argument("--borough", required=True)
    node_add.add_argument("--verify-key", required=True, metavar="HEX")
    node_add.add_argument("--certificate", required=True, metavar="CRT")
    node_add.set_defaults(run=cmd_nodes_add)

    token = commands.add_parser(
        "enrol-token",
        help="a one-time, expiring token for a borough's node to enrol with",
        description="Print a one-time token that lets BOROUGH's node enrol (`mash-node enrol "
        "--coordinator HOST:ENROL_PORT --token TOKEN`): the node makes its keys and certificate "
        "request, gets its certificate from the federation CA and joins the directory. The token "
        "is shown once, works once, and expires (directory.token_hours, or --valid-hours).",
    )
    token.add_argument("--borough", required=True, metavar="CODE")
    token.add_argument("--valid-hours", type=int, metavar="HOURS")
    token.set_defaults(run=cmd_enrol_token)

    demo = commands.add_parser(
        "demo-data",
        help="synthetic plan progress and monthly figures for a demo or a benchmark",
        description="Set the seeded plan as if the pilot began two years ago (waves, stages, "
        "milestones, agreements, funding, baselines) and store synthetic monthly figures for "
        "every authority, marked synthetic. Boroughs named by --skip get no figures (their "
        "real demo nodes report them).",
    )
    demo.add_argument("--months", type=int, default=24, help="months of figures (default 24)")
    demo.add_argument("--until", metavar="YYYY-MM", help="the last month (default: last month)")
    demo.add_argument("--skip", metavar="CODES", help="comma-separated boroughs to leave out")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(run=cmd_demo_data)

    demo_cmd = commands.add_parser(
        "demo",
        help="a demo coordinator in DIR: init, accounts, demo data, then serve",
        description="Make a demo coordinator in DIR (kept if there): config, init, three "
        "accounts (printed, and kept in DIR/demo-accounts.txt), the demo data; then serve it.",
    )
    demo_cmd.add_argument("--dir", default="demo-coordinator")
    demo_cmd.add_argument("--port", type=int, default=8090, help="web port (default 8090)")
    demo_cmd.add_argument("--grpc-port", type=int, default=50070, help="gRPC port (default 50070)")
    demo_cmd.add_argument("--skip", metavar="CODES", help="boroughs whose real nodes report")
    demo_cmd.add_argument("--no-serve", action="store_true", help="set up only")
    demo_cmd.set_defaults(run=cmd_demo)

    ca_parser = commands.add_parser("ca", help="the federation's certificate authority")
    ca_commands = ca_parser.add_subparsers(dest="ca_command", required=True)
    init_ca = ca_commands.add_parser(
        "init",
        help="create the federation CA (kept if it exists)",
        description="Create the federation CA in DIR: an ECDSA P-256 key (ca.key, readable by "
        "its owner only, never leaving DIR) and a self-signed certificate (ca.crt) valid for "
        "ten years. Run again, it keeps the CA.",
    )
    init_ca.add_argument("--dir", type=Path, required=True, metavar="CA_DIR")
    init_ca.set_defaults(run=cmd_ca_init)
    issue = ca_commands.add_parser(
        "issue",
        help="issue a node's TLS certificate",
        description="Issue a borough node's TLS certificate (two years; server and client "
        "authentication; names: CN=CODE, DNS CODE.mash-node, URI urn:mash:borough:CODE). "
        "Normally the node makes its key and a request (--csr) and keeps the key. "
        "--out-dir makes the key here instead, writing tls.key, tls.crt and "
        "federation-ca.crt into DIR: for tests and air-gapped demos only.",
    )
    issue.add_argument("--dir", type=Path, required=True, metavar="CA_DIR")
    issue.add_argument(
        "--borough", required=True, metavar="CODE", help="borough code, e.g. hackney"
    )
    issue.add_argument("--csr", type=Path, metavar="FILE", help="the node's request (PEM)")
    issue.add_argument("--out", type=Path, metavar="CERT", help="where to write the certificate")
    issue.add_argument(
        "--out-dir",
        type=Path,
        metavar="DIR",
        help="make the key here too (tests and demos only): tls.key, tls.crt, federation-ca.crt",
    )
    issue.set_defaults(run=cmd_ca_issue)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    args.opened = []
    try:
        return int(args.run(args))
    except (
        CommandError,
        DomainError,
        ConfigError,
        ca.CaError,
        CertificateError,
        BoroughCodeInvalid,
        PrivateFileError,
    ) as exc:
        shown = exc if isinstance(exc, DomainError) else getattr(exc, "message", exc)
        print(f"mash-coordinator: {shown}", file=sys.stderr)
        return 1
    finally:
        for opened in args.opened:
            opened.close()


if __name__ == "__main__":
    sys.exit(main())
