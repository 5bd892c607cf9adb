"""`mash-node`: the node administrator's and hub team's command line, a thin adapter over the services."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.evaluation import (
    FAMILIES,
    FEWER_THAN,
    SUPPRESS_BELOW,
    CountFigure,
    MonthlyFigures,
    label,
    month_name,
    parse_month,
)
from node import audit, match_key_set, search, subjects, users
from node.access import Actor
from node.agencies import STANDARD_AGENCIES, sync_agencies
from node.config import load_config
from node.errors import DomainError
from node.importing.service import ImportRefused, import_files
from node.keys import missing_keys
from node.runtime import Node
from node.store.models import Agency, Role

if TYPE_CHECKING:
    from node.federation.reports import QueueEntry

DEFAULT_CONFIG = "node.toml"


class CommandError(Exception):
    """A command could not be carried out; the message tells the user what to do."""


def _open(args: argparse.Namespace) -> Node:
    """The node the command acts on, refused if its store is behind this release; the CLI signs
    an audit checkpoint after every command. `main` closes it when the command ends."""
    node = Node.open(args.config, checkpoint_every_unit=True)
    args.opened.append(node)
    return node


def _sign_in(node: Node, username: str | None) -> Actor:
    """Who runs the command: --user (or $MASH_USER), with the password from $MASH_PASSWORD or a
    prompt. A failed attempt is audited before the command stops."""
    username = username or os.environ.get("MASH_USER")
    if not username:
        raise CommandError("say who you are: --user NAME (or set MASH_USER)")
    password = os.environ.get("MASH_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("no password: set MASH_PASSWORD or run from a terminal")
        password = getpass.getpass(f"Password for {username}: ")
    try:
        with node.unit_of_work(commit_despite=(users.SignInFailed,)) as session:
            return users.authenticate(session, username, password)
    except users.SignInFailed as exc:
        raise CommandError(str(exc)) from None


# --- commands ------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    created = missing_keys(config.keys_dir)
    password = _new_password(
        "MASH_PASSWORD", f"Password for the first administrator {args.admin_username}"
    )
    with Node.initialise(config) as node:
        with node.unit_of_work() as session:
            added = sync_agencies(session, config.agencies)
            admin = users.create_first_admin(
                session,
                username=args.admin_username,
                display_name=args.admin_name,
                password=password,
            )
        with node.unit_of_work() as session:
            rederived = _rederive_keys(session)
    print(
        f"Hub node for {config.borough_name} ({config.borough_code}) is ready in {config.data_dir}"
    )
    if rederived:
        print(
            f"  match keys re-derived: {rederived.records:,} records moved from key set "
            f"{rederived.from_version or 'unknown'} to {match_key_set.KEY_SET_VERSION} "
            f"({rederived.keys:,} keys); {rederived.candidates_raised:,} new candidate links "
            "to review"
        )
    print(f"  keys created: {', '.join(created) if created else 'none (existing keys kept)'}")
    print(f"  agencies added: {', '.join(added) if added else 'none (already present)'}")
    print(f"  first administrator: {admin.username if admin else 'already exists (unchanged)'}")
    return 0


def _rederive_keys(session: Session) -> match_key_set.Rederived | None:
    """Re-derive the store's match keys if this release's key set is new, with a progress bar."""
    if match_key_set.stored_version(session) == match_key_set.KEY_SET_VERSION:
        return None
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        total = match_key_set.count_records(session)
        bar = tqdm(total=total, unit=" records", desc="re-deriving match keys", leave=True)
    try:
        return match_key_set.rederive_if_needed(session, bar.update if bar else None)
    finally:
        if bar:
            bar.close()


def cmd_user_add(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    password = _new_password("MASH_NEW_PASSWORD", f"Password for {args.username}")
    with node.unit_of_work(actor) as session:
        user = users.add_user(
            session,
            actor,
            username=args.username,
            display_name=args.name,
            role=Role(args.role),
            agency_code=args.agency,
            password=password,
        )
    print(
        f"Added {user.username} ({user.role.value}{', ' + user.agency_code if user.agency_code else ''})"
    )
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    disable = args.action == "disable"
    with node.unit_of_work(actor) as session:
        users.set_disabled(session, actor, args.username, disable)
    print(f"{args.username} is now {'disabled' if disable else 'enabled'}")
    return 0


def cmd_user_reset_second_factor(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        users.reset_second_factor(session, actor, args.username)
    print(
        f"{args.username}'s second factor is cleared and their sessions ended; they set up a new one at next sign-in"
    )
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        rows = [
            (
                u.username,
                u.display_name,
                u.role.value,
                u.agency_code or "",
                "disabled" if u.disabled else "active",
            )
            for u in users.list_users(session, actor)
        ]
    _table(("username", "name", "role", "agency", "status"), rows)
    return 0


def cmd_agency_list(args: argparse.Namespace) -> int:
    node = _open(args)
    with node.reading() as session:
        rows = [
            (
                a.code,
                a.name,
                "yes" if a.is_health else "",
                a.contact_route,
                "active" if a.active else "inactive",
            )
            for a in session.scalars(select(Agency).order_by(Agency.code))
        ]
    _table(("code", "name", "health", "contact route", "status"), rows)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    paths = [Path(p) for p in args.files]
    bars = []

    def progress(path: Path) -> Callable[[int], None] | None:
        if not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        bar = tqdm(
            total=path.stat().st_size if path.exists() else None,
            unit="B",
            unit_scale=True,
            desc=path.name,
            leave=True,
        )
        bars.append(bar)
        return bar.update

    try:
        with node.unit_of_work(actor) as session:
            result = import_files(
                session,
                actor,
                args.agency,
                paths,
                remove_missing=args.remove_missing,
                progress=progress,
            )
    finally:
        for bar in bars:
            bar.close()
    for file in result.files:
        print(
            f"{file.path}: {file.rows} {file.kind} rows: {file.inserted} new, {file.updated} updated"
            + (
                f", {file.removed} removed (missing from this full extract)"
                if args.remove_missing
                else ""
            )
        )
        for warning, count in file.warnings.items():
            print(f"  note: {count} row(s): {warning}")
    stats = result.linking
    print(
        f"Subjects: {stats.subjects_created} new, {stats.records_linked} record(s) linked to another, "
        f"{stats.candidates_raised} new candidate link(s) to review"
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    query = search.SearchQuery(
        forenames=args.forenames or "",
        surname=args.surname or "",
        date_of_birth=args.dob or "",
        postcode=args.postcode or "",
        nhs_number=args.nhs_number or "",
    )
    with node.unit_of_work(actor) as session:
        results = search.search(session, actor, query, args.purpose)
        names = _agency_names(session)
    if not results.subjects:
        print("No subject found.")
        return 0
    for view in results.subjects:
        _print_subject(view, names)
    if results.truncated:
        print(f"More than {search.MAX_SUBJECTS} subjects match: narrow the search.")
    return 0


def cmd_subject_show(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        view = search.view_subject(session, actor, args.subject, args.purpose)
        names = _agency_names(session)
    _print_subject(view, names)
    return 0


def cmd_subject_candidates(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        rows = [
            (str(c.id), str(c.subject_a_id), str(c.subject_b_id), c.key_class, c.strength)
            for c in subjects.list_candidates(session, actor)
        ]
    _table(("candidate", "subject", "subject", "shared key", "strength"), rows)
    return 0


def cmd_subject_decide(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        if args.action == "confirm":
            merge = subjects.confirm_candidate(session, actor, args.target, args.reason)
            print(
                f"Confirmed: subject {merge.merged_id} merged into {merge.survivor_id} (merge {merge.id})"
            )
        elif args.action == "reject":
            subjects.reject_candidate(session, actor, args.target, args.reason)
            print(f"Rejected candidate {args.target}: it will not be proposed again")
        elif args.action == "merge":
            merge = subjects.merge_subjects(session, actor, args.target, args.other, args.reason)
            print(f"Subject {merge.merged_id} merged into {merge.survivor_id} (merge {merge.id})")
        else:
            merge = subjects.unmerge(session, actor, args.target, args.reason)
            print(
                f"Merge {merge.id} undone: subject {merge.merged_id} has its {len(merge.record_ids)} record(s) back"
            )
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    node = _open(args)
    with node.reading() as session:
        try:
            report = audit.verify_store(session, [bytes(node.keys.verify_key)])
        except audit.AuditTampered as exc:
            print(f"AUDIT LOG FAILED VERIFICATION: {exc}", file=sys.stderr)
            return 3
    print(
        f"Audit log intact: {report.size} entries, {report.checkpoints_checked} signed "
        f"checkpoint(s) verified, head {report.head_hash.hex()}"
    )
    if report.unanchored:
        print(
            f"  {report.unanchored} entries after the last checkpoint (run `mash-node audit checkpoint`)"
        )
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    start, end = _date_arg(args.start, "--from"), _date_arg(args.end, "--to")

    def output() -> AbstractContextManager[TextIO]:
        if args.output:
            return open(args.output, "w", encoding="utf-8", newline="")
        return nullcontext(sys.stdout)

    with node.unit_of_work(actor) as session:
        count = audit.export_for(session, actor, start, end, args.purpose, output, args.format)
    if args.output:
        print(f"Wrote {count} audit entries to {args.output}", file=sys.stderr)
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    node = _open(args)
    with node.unit_of_work() as session:
        point = audit.checkpoint(session, node.keys)
    print(f"Checkpoint: {point.size} entries, head {point.head_hash.hex()}")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from node.synthetic.extracts import write_extracts

    agencies = args.agencies.split(",") if args.agencies else list(STANDARD_AGENCIES)
    files = write_extracts(
        args.borough, agencies, Path(args.out), households=args.households, seed=args.seed
    )
    for file in files:
        print(f"{file.path}  ({file.agency}, {file.kind}, {file.rows} rows)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from node.demo import run_demo

    return run_demo(Path(args.dir), serve=not args.no_serve, port=args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    from node.web.serve import run

    if args.workers is not None and args.workers < 1:
        raise CommandError("--workers: at least 1")
    with _open(args) as node:  # refuse missing keys or a store behind this release, before binding
        config = node.config
    run(config, host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from node.federation import reports

    node = _open(args)
    if args.identity:
        _print_identity(node)
        return 0
    if args.queue:
        _print_queue(reports.queue_entries(node))
        return 0
    if args.month is None and not args.deliver:
        raise CommandError("give --month YYYY-MM (or --deliver to send what is queued)")
    if args.month is not None:
        figures = _month_figures(node, args.month)
        _print_figures(node, figures, sending=args.send)
        if not args.send:
            return 0
        queue_id = reports.queue_report(node, figures)
        print(f"\nQueued as report {queue_id} for the coordinator.")
    delivery = reports.deliver_queued(node)
    for attempt in delivery.attempts:
        if attempt.state == reports.DELIVERED:
            print(f"  {attempt.month} (report {attempt.queue_id}): delivered ({attempt.detail})")
        elif attempt.state == reports.REFUSED:
            print(f"  {attempt.month} (report {attempt.queue_id}): refused: {attempt.detail}")
    if delivery.still_queued:
        first = next(a for a in delivery.attempts if a.state == reports.QUEUED)
        print(
            f"The coordinator could not be reached ({first.detail}); {delivery.still_queued} "
            "report(s) stay queued and are sent, oldest first, by the next "
            "`mash-node report --send` or `--deliver`."
        )
        return 3
    if not delivery.attempts:
        print("Nothing queued for the coordinator.")
    return 1 if delivery.refused else 0


def _month_figures(node: Node, text: str) -> MonthlyFigures:
    from node.evaluation import monthly_figures
    from node.federation.info import software_version

    try:
        month = parse_month(text)
    except ValueError:
        raise CommandError("--month: give a month as YYYY-MM, such as 2026-11") from None
    today = dt.datetime.now(dt.UTC).date()
    if month > dt.date(today.year, today.month, 1):
        raise CommandError(f"--month: {text} has not begun yet")
    with node.reading() as session:
        return monthly_figures(
            session, month, node.config.referrals, software_version=software_version()
        )


def _print_figures(node: Node, figures: MonthlyFigures, *, sending: bool) -> None:
    verb = "to be sent" if sending else "that would be sent"
    month = month_name(parse_month(figures.month))
    print(f"{node.config.borough_name}'s evaluation figures for {month}, {verb} to the coordinator")
    print(
        f"Counts from 1 to {SUPPRESS_BELOW - 1} are shown as “{FEWER_THAN}” and sent without "
        "their number. No person is named or described."
    )
    by_family: dict[str, list[CountFigure]] = {}
    for count in figures.counts:
        by_family.setdefault(count.family, []).append(count)
    for name, family in FAMILIES.items():
        if family.statistic:
            continue
        items = by_family.get(name, [])
        shown = [
            f"{label(c.category)} {FEWER_THAN if c.suppressed else f'{c.value:,}'}"
            for c in items
            if c.value or c.suppressed
        ]
        print(f"\n{family.title}: {', '.join(shown) if shown else 'none'}")
    print()
    for statistic in figures.statistics:
        family = FAMILIES[statistic.family]
        if statistic.suppressed:
            text = f"not sent (over {FEWER_THAN} decisions)"
        elif statistic.basis == 0:
            text = "none"
        else:
            text = f"{statistic.value:g} {family.unit} over {statistic.basis:,}"
        print(f"{family.title}, {label(statistic.category)}: {text}")


def _print_identity(node: Node) -> None:
    from node.keys import load_tls

    print(f"borough      {node.config.borough_code}")
    print(f"verify key   {bytes(node.keys.verify_key).hex()}")
    print(f"key id       {node.keys.signing_key_id}")
    try:
        load_tls(node.config.keys_dir)
        print(f"certificate  {node.config.keys_dir / 'tls.crt'}")
    except DomainError as exc:
        print(f"certificate  none yet: {exc}")
    print(
        "On the coordinator: mash-coordinator nodes add --borough "
        f"{node.config.borough_code} --verify-key {bytes(node.keys.verify_key).hex()} "
        f"--certificate {node.config.keys_dir / 'tls.crt'}"
    )


def _print_queue(entries: list[QueueEntry]) -> None:
    if not entries:
        print("No reports queued or sent yet.")
        return
    _table(
        ("report", "month", "state", "queued", "attempts", "answer or last error"),
        [
            (
                str(e.id),
                e.month,
                e.state,
                f"{e.queued_at:%Y-%m-%d %H:%M}",
                str(e.attempts),
                e.outcome or e.last_error[:60],
            )
            for e in entries
        ],
    )


# --- helpers --------------------------------------------------------------------------------


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


def _date_arg(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag}: give a date as YYYY-MM-DD") from None


def _agency_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(Agency.code, Agency.name))}


def _print_subject(view: search.SubjectView, names: dict[str, str]) -> None:
    held = ", ".join(f"{names.get(code, code)} ({count})" for code, count in view.holdings.items())
    print(f"Subject {view.subject_id}: records held by {held}")
    for record in view.own_records:
        born = record.date_of_birth.isoformat() if record.date_of_birth else "date of birth unknown"
        print(
            f"  {record.agency_record_id}: {record.forenames} {record.surname}, {born}, {record.postcode}"
        )
        if record.aliases:
            print(f"    also known as: {'; '.join(record.aliases)}")
        if record.address:
            print(f"    address: {record.address}")
        if record.nhs_number:
            print(f"    NHS number: {record.nhs_number}")
        for key, value in record.extra.items():
            print(f"    {key}: {value}")
        for item in record.items:
            print(
                f"    {item.occurred_on}  {item.category}: {item.summary} [{item.item_ref}, {item.sensitivity}]"
            )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mash-node", description="Borough hub node of the MASH federation."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("MASH_NODE_CONFIG", DEFAULT_CONFIG),
        help="node configuration file (default: $MASH_NODE_CONFIG or ./node.toml)",
    )
    parser.add_argument(
        "--user", help="who you are (default: $MASH_USER); password from $MASH_PASSWORD or a prompt"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help="create the store, the node's keys and the first administrator"
    )
    init.add_argument("--admin-username", default="admin")
    init.add_argument("--admin-name", default="Node administrator")
    init.set_defaults(run=cmd_init)

    user = commands.add_parser("user", help="add, disable, enable and list users").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", help="add a user (password from $MASH_NEW_PASSWORD or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--agency", help="the agency of an agency professional")
    add.add_argument("--name", required=True, help="the person's full name")
    add.set_defaults(run=cmd_user_add)
    for action in ("disable", "enable"):
        sub = user.add_parser(action, help=f"{action} a user")
        sub.add_argument("username")
        sub.set_defaults(run=cmd_user_disable)
    user.add_parser("list", help="list users").set_defaults(run=cmd_user_list)
    reset = user.add_parser(
        "reset-two-factor", help="clear a user's TOTP (lost phone): they set it up again"
    )
    reset.add_argument("username")
    reset.set_defaults(run=cmd_user_reset_second_factor)

    agency = commands.add_parser("agency", help="the agencies of this hub").add_subparsers(
        dest="action", required=True
    )
    agency.add_parser(
        "list", help="list the agencies (set them in the configuration file)"
    ).set_defaults(run=cmd_agency_list)

    imp = commands.add_parser("import", help="import an agency's extract files (CSV or JSON Lines)")
    imp.add_argument("--agency", required=True, help="the agency whose data this is")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument(
        "--remove-missing",
        action="store_true",
        help="the files are a full extract: remove this agency's records and items not in them",
    )
    imp.set_defaults(run=cmd_import)

    find = commands.add_parser(
        "search", help="search subjects by name, date of birth, postcode or NHS number"
    )
    find.add_argument("--forenames")
    find.add_argument("--surname")
    find.add_argument("--dob", help="date of birth, e.g. 2015-03-14 or 14/03/2015")
    find.add_argument("--postcode")
    find.add_argument("--nhs-number")
    find.add_argument("--purpose", required=True, help="the referral reference or reason (audited)")
    find.set_defaults(run=cmd_search)

    subject = commands.add_parser(
        "subject", help="view subjects and decide on links"
    ).add_subparsers(dest="action", required=True)
    show = subject.add_parser("show", help="show one subject")
    show.add_argument("subject", type=int)
    show.add_argument("--purpose", required=True, help="the referral reference or reason (audited)")
    show.set_defaults(run=cmd_subject_show)
    subject.add_parser("candidates", help="list candidate links to review").set_defaults(
        run=cmd_subject_candidates
    )
    for action, target, extra in (
        ("confirm", "candidate", None),
        ("reject", "candidate", None),
        ("merge", "survivor", "merged"),
        ("unmerge", "merge", None),
    ):
        sub = subject.add_parser(action, help=f"{action} ({target} id)")
        sub.add_argument("target", type=int, metavar=target.upper())
        if extra:
            sub.add_argument("other", type=int, metavar=extra.upper())
        sub.add_argument("--reason", required=True)
        sub.set_defaults(run=cmd_subject_decide)

    aud = commands.add_parser("audit", help="verify and export the audit log").add_subparsers(
        dest="action", required=True
    )
    aud.add_parser(
        "verify", help="prove the audit log intact or name the first bad entry"
    ).set_defaults(run=cmd_audit_verify)
    export = aud.add_parser("export", help="who, when, what and why for a date range")
    export.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (UTC)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.add_argument("--purpose", required=True, help="why the audit is being read (audited)")
    export.set_defaults(run=cmd_audit_export)
    aud.add_parser("checkpoint", help="sign a checkpoint of the audit log now").set_defaults(
        run=cmd_audit_checkpoint
    )

    data = commands.add_parser("demo-data", help="write synthetic agency extracts for a borough")
    data.add_argument("--out", required=True, help="folder to write the extracts to")
    data.add_argument("--borough", default="hackney")
    data.add_argument(
        "--agencies", help="comma-separated agency codes (default: all standard agencies)"
    )
    data.add_argument("--households", type=int, default=400)
    data.add_argument("--seed", type=int, default=1)
    data.set_defaults(run=cmd_demo_data)

    demo = commands.add_parser(
        "demo", help="set up a demo hub node with synthetic data and serve it"
    )
    demo.add_argument("--dir", default="demo")
    demo.add_argument(
        "--no-serve", action="store_true", help="set up only; do not start the web UI"
    )
    demo.add_argument("--port", type=int, help="serve the web UI on this port (default: 8080)")
    demo.set_defaults(run=cmd_demo)

    report = commands.add_parser(
        "report",
        help="the month's evaluation figures for the coordinator: show, queue and send",
        description="Show the hub's evaluation figures for a month, in words, as they would be "
        "sent to the coordinator (counts of 1 to 4 suppressed). With --send, queue them and "
        "send every queued report, oldest first; those the coordinator cannot take now stay "
        "queued (exit status 3). --deliver sends what is queued; --queue lists it; --identity "
        "prints what the coordinator's config needs to know of this node.",
    )
    report.add_argument("--month", metavar="YYYY-MM", help="the calendar month, e.g. 2026-11")
    report.add_argument("--send", action="store_true", help="queue the month's figures and send")
    report.add_argument("--deliver", action="store_true", help="send the queued reports")
    report.add_argument("--queue", action="store_true", help="list the queued and sent reports")
    report.add_argument(
        "--identity", action="store_true", help="this node's verify key and certificate"
    )
    report.set_defaults(run=cmd_report)

    serve = commands.add_parser("serve", help="serve the web UI (waitress)")
    serve.add_argument("--host", help="address to listen on (default: web.host)")
    serve.add_argument("--port", type=int, help="port (default: web.port; 0 picks a free one)")
    serve.add_argument(
        "--workers", type=int, help="processes sharing the socket (default: web.workers, 1)"
    )
    serve.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `mash-node ... | head` ends quietly
    parser = build_parser()
    args = parser.parse_args(argv)
    args.opened = []
    try:
        return int(args.run(args))
    except ImportRefused as exc:
        print(f"mash-node: {exc}", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    except (CommandError, DomainError) as exc:
        print(f"mash-node: {exc}", file=sys.stderr)
        return 1
    finally:
        for node in args.opened:
            node.close()


if __name__ == "__main__":
    sys.exit(main())
