"""`mash-node`: the node administrator's and hub team's command line, a thin adapter over the services."""

from __future__ import annotations

import argparse
import csv
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
from sqlalchemy.exc import SQLAlchemyError
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
from node import access, audit, match_key_set, search, subjects, users
from node.access import Actor
from node.agencies import STANDARD_AGENCIES, sync_agencies
from node.auth import attempts
from node.config import load_config
from node.errors import DomainError
from node.importing.service import ImportRefused, import_files
from node.keys import missing_keys
from node.matching.keys import Identity
from node.matching.normalise import DateError
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
    with Node.open(config) as opened:
        _refresh_index(opened)
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


def cmd_user_lift_delays(args: argparse.Namespace) -> int:
    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        forgotten = attempts.lift(session, actor, args.username)
    print(
        f"{args.username} can sign in again without waiting "
        f"({forgotten} failed attempt(s) forgotten; each stays in the audit log)"
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


EXIT_ROWS_REFUSED = 4  # `import --rejects`: the good rows were imported, some rows were not
IMPORT_HELP = f"""\
Import an agency's extract files (CSV or JSON Lines; persons and items files told apart by their
columns) in one transaction. Every problem is named as file:line:field: reason. Without
--rejects, one bad row refuses the whole import and nothing is written. With --rejects FILE, the
good rows are imported and every refused row is written to FILE (JSON Lines: its file, line,
reasons and the row as read), to put right and import again; a file that cannot be read at all
still refuses the whole import.

exit status:
  0  everything was imported
  1  nothing was imported: the import was refused (the problems are listed) or could not run
  {EXIT_ROWS_REFUSED}  with --rejects: the good rows were imported, and some rows were refused (see FILE)
"""


def cmd_import(args: argparse.Namespace) -> int:
    from node.importing.rejects import write_rejects

    node = _open(args)
    actor = _sign_in(node, args.user)
    paths = [Path(p) for p in args.files]
    rejects = Path(args.rejects) if args.rejects else None
    if rejects is not None and any(
        path.exists() and rejects.exists() and path.samefile(rejects) for path in paths
    ):
        raise CommandError(f"--rejects {rejects}: is one of the files to import")
    if rejects is not None and not rejects.parent.is_dir():
        raise CommandError(f"--rejects {rejects}: no such folder {rejects.parent}")
    partial = rejects.with_name(f".{rejects.name}.partial") if rejects is not None else None
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
                keep_going=rejects is not None,
                progress=progress,
            )
            if partial is not None:  # before the commit: a commit never lacks its rejects
                write_rejects(partial, result.rejected)
        if partial is not None and rejects is not None:
            os.replace(partial, rejects)
    finally:
        for bar in bars:
            bar.close()
        if partial is not None:
            partial.unlink(missing_ok=True)
    for file in result.files:
        print(
            f"{file.path}: {file.rows} {file.kind} rows: {file.inserted} new, {file.updated} updated"
            + (
                f", {file.removed} removed (missing from this full extract)"
                if args.remove_missing
                else ""
            )
            + (f", {file.refused} refused" if rejects is not None else "")
        )
        for warning, count in file.warnings.items():
            print(
                f"  note: {count} row(s): {warning} ({_lines(file.warned_at.get(warning, []), count)})"
            )
    stats = result.linking
    print(
        f"Subjects: {stats.subjects_created} new, {stats.records_linked} record(s) linked to another, "
        f"{stats.candidates_raised} new candidate link(s) to review"
    )
    with node.unit_of_work() as session:
        from node.cumulative_harm.flags import IMPORT, IMPORT_KINDS, evaluate_all

        evaluate_all(
            session,
            Actor.system("cumulative-harm"),
            node.config.referrals.harm_rules,
            IMPORT,
            kinds=IMPORT_KINDS,
        )
    _refresh_index(node)
    if result.refused:
        print(
            f"mash-node: {result.refused} row(s) refused and not imported; each is in {rejects} "
            f"with its file, line and reasons (exit status {EXIT_ROWS_REFUSED})",
            file=sys.stderr,
        )
        return EXIT_ROWS_REFUSED
    return 0


def _lines(lines: list[int], count: int) -> str:
    """'line 4', 'lines 4, 9', or 'first at lines 4, 9, ...' when more rows than lines named."""
    shown = ", ".join(map(str, lines))
    if count > len(lines):
        return f"first at lines {shown}"
    return f"line {shown}" if len(lines) == 1 else f"lines {shown}"


def _federation(node: Node):  # type: ignore[no-untyped-def]
    from node.federation.runtime import Federation

    return Federation.open(node)


def _refresh_index(node: Node) -> None:
    """Bring the node's published index up to its match keys (imports and init call this when
    the node takes part in the federation), with a progress bar on a terminal."""
    if node.config.federation is None:
        return
    from node.federation import index

    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" keys", desc="indexing for other boroughs", leave=True)
    try:
        refreshed = index.refresh(node, progress=bar.update if bar else None)
    except index.IndexBusy:
        print("  the index is being refreshed by the server: it will include this", file=sys.stderr)
        return
    finally:
        if bar:
            bar.close()
    print(
        f"Index for other boroughs (epoch {refreshed.epoch}): {refreshed.evaluated:,} key(s) added, "
        f"{refreshed.forgotten:,} removed"
        + (
            f"; snapshot of {refreshed.snapshot.size:,} keys published"
            if refreshed.rebuilt and refreshed.snapshot
            else ""
        )
    )


def cmd_tls_request(args: argparse.Namespace) -> int:
    """The node's TLS key (made here if it has none; it never leaves) and its certificate
    request, for the federation's CA to sign."""
    from mash_common.pki import make_csr
    from mash_common.tls import KEY_FILE

    config = load_config(args.config)
    config.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = Path(args.out or f"{config.borough_code}.csr")
    out.write_bytes(make_csr(config.borough_code, config.keys_dir / KEY_FILE))
    print(
        f"Certificate request for {config.borough_code} written to {out}; the key stays in "
        f"{config.keys_dir}. Have the federation's CA sign it, then `mash-node tls install`."
    )
    return 0


def cmd_tls_install(args: argparse.Namespace) -> int:
    """Install the certificate the CA issued (checked against the node's key and the CA)."""
    from mash_common.files import PrivateFileError
    from mash_common.pki import CertificateError
    from mash_common.tls import CA_FILE, CERT_FILE, KEY_FILE, TlsIdentity

    config = load_config(args.config)
    try:
        certificate = Path(args.certificate).read_bytes()
        ca_certificate = Path(args.ca).read_bytes()
        identity = TlsIdentity.of(
            (config.keys_dir / KEY_FILE).read_bytes(),
            certificate,
            ca_certificate,
            sources=(str(config.keys_dir / KEY_FILE), args.certificate, args.ca),
        )
    except OSError as exc:
        raise CommandError(f"{exc.filename}: cannot be read ({exc.strerror})") from None
    except (CertificateError, PrivateFileError) as exc:
        raise CommandError(exc.message) from None
    if identity.borough != config.borough_code:
        raise CommandError(
            f"{args.certificate}: the certificate is {identity.borough!r}'s, not "
            f"{config.borough_code!r}'s"
        )
    (config.keys_dir / CERT_FILE).write_bytes(certificate)
    (config.keys_dir / CA_FILE).write_bytes(ca_certificate)
    print(
        f"Installed {config.borough_code}'s certificate and the federation CA in {config.keys_dir}"
    )
    return 0


def cmd_enrol(args: argparse.Namespace) -> int:
    """Enrol this node with the coordinator using a one-time token: the TLS key and request are
    made here, the certificate comes back from the federation CA, the directory key is pinned,
    and the coordinator's mutual-TLS address goes into the config's [coordinator] section."""
    from mash_common.enrolment import TokenMalformed, parse_token
    from node.federation.enrolment import enrol

    config = load_config(args.config)
    if missing_keys(config.keys_dir):
        raise CommandError(f"{config.keys_dir}: the node has no keys yet; run `mash-node init`")
    try:
        token = parse_token(args.token or os.environ.get("MASH_ENROL_TOKEN", ""))
    except TokenMalformed as exc:
        raise CommandError(f"--token: {exc.message}") from None
    endpoint = args.endpoint
    if endpoint is None:
        if config.federation is None:
            raise CommandError(
                "--endpoint HOST:PORT: where peers reach this node (or set [federation])"
            )
        endpoint = f"{config.federation.host}:{config.federation.port}"
    enrolled = enrol(config, args.coordinator, token, endpoint=endpoint)
    if config.coordinator is None:
        with config.path.open("a", encoding="utf-8") as handle:
            handle.write(f'\n[coordinator]\naddress = "{enrolled.coordinator_address}"\n')
        load_config(config.path)  # still valid
        where = f"added to {config.path}"
    elif config.coordinator.address != enrolled.coordinator_address:
        where = (
            f"note: {config.path} names {config.coordinator.address}, the coordinator says "
            f"{enrolled.coordinator_address}"
        )
    else:
        where = f"as {config.path} says"
    print(
        f"Enrolled {enrolled.borough}'s node (directory version {enrolled.directory_version}): "
        f"certificate and federation CA installed in {config.keys_dir}, the coordinator's "
        f"directory key pinned; the coordinator is at {enrolled.coordinator_address} ({where}). "
        "Restart `mash-node serve` to use the directory."
    )
    return 0


def cmd_keys_rotate_oprf(args: argparse.Namespace) -> int:
    """Start a new OPRF epoch (a node administrator's step, audited); the index of the new
    epoch is built now, and the old epoch is answered until its grace period has passed."""
    from node.keys import rotate_oprf

    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        access.require_admin(actor)
        epoch = rotate_oprf(node.config.keys_dir)
        audit.record(session, actor, "keys.oprf-rotated", object_ref=f"oprf-epoch:{epoch}")
    print(f"OPRF epoch {epoch} started.")
    with Node.open(args.config) as rotated:
        _refresh_index(rotated)
    grace = node.config.federation.epoch_grace_hours if node.config.federation else 72
    print(
        f"Restart `mash-node serve` to answer with it; epoch {epoch - 1} is still answered for "
        f"{grace} hours, then retired."
    )
    return 0


def cmd_index_refresh(args: argparse.Namespace) -> int:
    node = _open(args)
    if node.config.federation is None:
        raise CommandError("this node has no [federation] section: it publishes no index")
    _refresh_index(node)
    return 0


def cmd_peers_list(args: argparse.Namespace) -> int:
    node = _open(args)
    federation = _federation(node)
    try:
        statuses = federation.asker.statuses()
        warning = federation.directory_warning()
        held = federation.book.held() if federation.uses_directory else None  # type: ignore[attr-defined]
    finally:
        federation.close()
    if federation.uses_directory:
        source = (
            f"the coordinator's directory, version {held.version}, signed "
            f"{held.issued_at:%Y-%m-%d %H:%M} UTC, expires {held.expires_at:%Y-%m-%d %H:%M} UTC"
            if held is not None
            else "the coordinator's directory (none held yet)"
        )
        print(f"Peers from {source}")
        if warning:
            print(f"WARNING: {warning}")
        revoked = [n for n in held.nodes if n.revoked] if held is not None else []
        for gone in revoked:
            print(f"Revoked: {gone.borough} ({gone.revoked_reason})")
    rows = [
        (
            s.borough,
            s.name,
            s.address,
            "yes" if s.reachable else f"no ({s.problem})",
            str(s.key_set_version) if s.key_set_version is not None else "",
            str(s.filter_epoch) if s.filter_epoch is not None else "none yet",
            f"{s.filter_keys:,}" if s.filter_keys is not None else "",
            _age(s.filter_age),
        )
        for s in statuses
    ]
    _table(
        ("borough", "name", "address", "reachable", "key set", "filter epoch", "keys", "fetched"),
        rows,
    )
    return 0


def cmd_peers_refresh(args: argparse.Namespace) -> int:
    node = _open(args)
    federation = _federation(node)
    try:
        if federation.uses_directory:
            print(f"directory: {federation.refresh_directory()}")
        for borough, result in federation.asker.refresh_filters().items():
            print(f"{borough}: {result}")
    finally:
        federation.close()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from node.federation.asking import Why
    from node.matching.key_classes import label
    from node.referrals.borough_checks import identity_keys, in_words, record_enquiry

    node = _open(args)
    actor = _sign_in(node, args.user)
    people = _people_to_check(args)
    federation = _federation(node)
    try:
        access.require_borough_check(actor)
        why = Why(args.reference or "", args.purpose, node.keys.pseudonym(actor.username))
        answers = [
            federation.asker.check(identity_keys([identity]), why) for _, identity, _ in people
        ]
    except access.AccessDenied as refused:
        node.record_refusal(actor, refused)
        raise
    finally:
        federation.close()
    with node.unit_of_work(actor) as session:
        record_enquiry(session, actor, args.purpose, [c for _, _, c in people], answers)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(
                ["line", "record_id", "borough", "outcome", "strength", "matched_on", "detail"]
            )
            for (line, _identity, criteria), person_answers in zip(people, answers, strict=True):
                for answer in person_answers:
                    writer.writerow(
                        [
                            line,
                            criteria.get("record_id", ""),
                            answer.borough,
                            answer.outcome,
                            answer.strength,
                            label(answer.key_class) if answer.key_class else "",
                            answer.detail,
                        ]
                    )
        print(
            f"Wrote {sum(len(a) for a in answers)} answer(s) for {len(people)} person(s) to {args.output}"
        )
    else:
        for (_line, _identity, criteria), person_answers in zip(people, answers, strict=True):
            who = " ".join(v for k, v in criteria.items() if k in ("forenames", "surname"))
            print(f"{who or 'The person'}:")
            for answer in person_answers:
                print(f"  {in_words(answer)}")
            if not person_answers:
                print("  no peers to ask: list them in the peers file")
    return 0


def _people_to_check(args: argparse.Namespace) -> list[tuple[int, Identity, dict[str, str]]]:
    """(line, identity, criteria) of each person to check: from the options, or a persons file
    with the import's columns (every bad row named by its line and field)."""
    if args.file:
        return _people_from_file(Path(args.file))
    if not args.surname and not args.nhs_number:
        raise CommandError("give at least --surname or --nhs-number (or --file people.csv)")
    criteria = {
        name: value
        for name, value in (
            ("forenames", args.forenames),
            ("surname", args.surname),
            ("date_of_birth", args.date_of_birth),
            ("postcode", args.postcode),
            ("nhs_number", args.nhs_number),
        )
        if value
    }
    try:
        identity = Identity.from_fields(
            args.forenames or "",
            args.surname or "",
            args.date_of_birth or None,
            args.postcode,
            args.nhs_number,
        )
    except DateError as exc:
        raise CommandError(f"--date-of-birth: {exc}") from None
    return [(0, identity, criteria)]


def _people_from_file(path: Path) -> list[tuple[int, Identity, dict[str, str]]]:
    columns = (
        "record_id",
        "forenames",
        "surname",
        "date_of_birth",
        "postcode",
        "nhs_number",
        "aliases",
    )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"surname", "nhs_number"} & set(reader.fieldnames):
                raise CommandError(
                    f"{path}: needs a header row with a surname or nhs_number column"
                )
            people, problems = [], []
            for row in reader:
                line = reader.line_num
                values = {
                    c: (row.get(c) or "").strip() for c in columns if (row.get(c) or "").strip()
                }
                try:
                    identity = Identity.from_fields(
                        values.get("forenames", ""),
                        values.get("surname", ""),
                        values.get("date_of_birth") or None,
                        values.get("postcode"),
                        values.get("nhs_number"),
                        [a.strip() for a in values.get("aliases", "").split(";")],
                    )
                except DateError as exc:
                    problems.append(f"{path}:{line}:date_of_birth: {exc}")
                    continue
                people.append((line, identity, values))
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}") from None
    if problems:
        raise CommandError("nothing was checked:\n  " + "\n  ".join(problems[:50]))
    return people


def _age(age: dt.timedelta | None) -> str:
    if age is None:
        return ""
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


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


def cmd_disclosures_list(args: argparse.Namespace) -> int:
    from node.disclosures import register

    node = _open(args)
    actor = _sign_in(node, args.user)
    direction = register.INCOMING if args.incoming else register.OUTGOING if args.outgoing else None
    with node.unit_of_work(actor) as session:
        found = register.entries(session, actor, direction)
    _table(
        ("id", "borough", "referral", "urgency", "state", "opened", "deadline", "closed"),
        [
            (
                e.ref,
                e.borough,
                e.referral,
                e.urgency,
                e.state + (f" (attempts: {e.attempts}: {e.last_error})" if e.last_error else ""),
                _utc(e.opened_at),
                _utc(e.deadline_at),
                _utc(e.closed_at),
            )
            for e in found
        ],
    )
    return 0


def cmd_disclosures_show(args: argparse.Namespace) -> int:
    from node.disclosures import register

    node = _open(args)
    actor = _sign_in(node, args.user)
    with node.unit_of_work(actor) as session:
        shown, steps = register.entry(session, actor, args.id)
    made_of = "made of this hub by" if shown.ref.startswith("in-") else "made by this hub of"
    print(f"Request {shown.ref}, {made_of} {shown.borough}, for referral {shown.referral}")
    for name, value in (
        ("urgency", shown.urgency),
        ("state", shown.state),
        ("opened", _utc(shown.opened_at)),
        ("deadline", _utc(shown.deadline_at) or "not yet known"),
        ("closed", _utc(shown.closed_at) or "open"),
        ("delivered", _utc(shown.delivered_at) or "not yet acknowledged"),
        (
            "attempts",
            f"{shown.attempts}" + (f", last: {shown.last_error}" if shown.last_error else ""),
        ),
    ):
        print(f"  {name + ':':<10} {value}")
    print("Steps:")
    _table(("at", "who", "step"), [(_utc(s.at), s.actor, s.step) for s in steps])
    return 0


def _utc(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else ""


EXIT_TAMPERED = 3  # `audit verify`: the log or its checkpoints are not what the node wrote
VERIFY_HELP = f"""\
Recompute the audit log's hash chain and check it against every signed checkpoint in the store
and in the node's checkpoint file (keys/audit-checkpoints). Any edit, deletion, insertion,
reordering or truncation of entries up to the last checkpoint, a re-chained log, and checkpoint
rows deleted, replayed or altered are reported with the first bad entry (or checkpoint).

exit status:
  0  the log is intact (entries after the last checkpoint are counted, with their age)
  1  the command could not run: configuration, keys, checkpoint file or store unreadable
  {EXIT_TAMPERED}  the log failed verification: one line on standard error names the first fault
"""


def cmd_audit_verify(args: argparse.Namespace) -> int:
    node = _open(args)
    try:
        with node.reading() as session:
            report = audit.verify_store(session, [bytes(node.keys.verify_key)], anchor=node.anchor)
    except audit.AuditTampered as exc:
        print(f"AUDIT LOG FAILED VERIFICATION: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_TAMPERED
    except SQLAlchemyError as exc:
        reason = _one_line(str(getattr(exc, "orig", None) or exc))
        raise CommandError(f"cannot read the audit log from the store: {reason}") from None
    print(
        f"Audit log intact: {report.size:,} entries, {report.checkpoints_checked} signed "
        f"checkpoint(s) verified, head {report.head_hash.hex()}"
    )
    print(
        f"  checkpoint file {node.anchor.path}: {report.filed} checkpoint(s), each committed "
        "one found in the store"
    )
    if report.uncommitted:
        print(
            f"  {report.uncommitted} of them signed by work that never committed (the process "
            "stopped, or the commit failed, after filing it): the log still holds what that "
            "work began from"
        )
    if report.unanchored:
        print(
            f"  {report.unanchored:,} entries after the last checkpoint, the oldest from "
            f"{report.unanchored_since} ({_audit_age(report.unanchored_since)} ago): no signature "
            "vouches for them yet (`mash-node audit checkpoint` signs one now)"
        )
    if args.against_coordinator:
        return _verify_against_coordinator(node)
    return 0


def _verify_against_coordinator(node: Node) -> int:
    """Hold the log to the checkpoints the coordinator keeps as its witness (exit 3 if not)."""
    import grpc

    from node.audit.witnessed import Witnessed, against_witness
    from node.federation.health import held_by_coordinator

    try:
        held = held_by_coordinator(node)
    except grpc.RpcError as error:
        raise CommandError(
            f"cannot ask the coordinator for its checkpoints: {error.code().name}: "  # type: ignore[attr-defined]
            f"{error.details()}"  # type: ignore[attr-defined]
        ) from None
    points = [
        Witnessed(c.size, bytes(c.head_hash), c.signed_at, bytes(c.verify_key), bytes(c.signature))
        for c in held.checkpoints
    ]
    with node.reading() as session:
        report = against_witness(session, bytes(node.keys.verify_key), points)
    for why in held.inconsistencies:
        print(f"  the coordinator's witness flagged this node: {why}", file=sys.stderr)
    if report.problems or held.inconsistencies:
        for problem in report.problems:
            print(f"AUDIT LOG DISAGREES WITH THE COORDINATOR: {problem}", file=sys.stderr)
        if not report.problems:
            print(
                "AUDIT LOG DISAGREES WITH THE COORDINATOR: it flagged this node's checkpoints",
                file=sys.stderr,
            )
        return EXIT_TAMPERED
    print(
        f"Audit log consistent with the coordinator: {report.checked} checkpoint(s) it holds, "
        f"up to {report.largest:,} entries, each this node's and each still the log's"
    )
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _audit_age(at: str | None) -> str:
    """How long ago an audit time was, roughly: "40 s", "12 min", "3 h 5 min", "2 days"."""
    if at is None:
        return "an unknown time"
    try:
        moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "an unknown time"
    seconds = max(0, int((dt.datetime.now(dt.UTC) - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


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
        point = audit.checkpoint(session, node.keys, node.anchor)
    print(f"Checkpoint: {point.size} entries, head {point.head_hash.hex()}")
    return 0


def cmd_harm_evaluate(args: argparse.Namespace) -> int:
    from node.cumulative_harm.flags import NIGHTLY, evaluate_all

    node = _open(args)
    with node.unit_of_work() as session:
        done = evaluate_all(
            session, Actor.system("cumulative-harm"), node.config.referrals.harm_rules, NIGHTLY
        )
    print(
        f"Cumulative harm: {done.people} people evaluated; {done.raised} flag(s) raised, "
        f"{done.updated} updated, {done.cleared} cleared; {done.open} open"
    )
    return 0


def cmd_harm_rules(args: argparse.Namespace) -> int:
    node = _open(args)
    rules = node.config.referrals.harm_rules
    print(f"Cumulative-harm rules, version {rules.version}:")
    _table(
        ("key", "title", "rule"),
        [(rule.key, rule.title, rule.description) for rule in rules.rules],
    )
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


def cmd_health(args: argparse.Namespace) -> int:
    """Whether this node's federation server answers: the standard gRPC health check, asked over
    mutual TLS with the node's own certificate (what a deployment waits for after a start)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from mash_common.client import client_channel
    from node.keys import load_tls

    config = load_config(args.config)
    if config.federation is None:
        raise CommandError(f"{config.path}: no [federation] section: the node serves no gRPC")
    listening = config.federation.host
    host = "127.0.0.1" if listening in ("0.0.0.0", "") else listening  # noqa: S104 (all interfaces: ask on loopback)
    address = f"{host}:{config.federation.port}"
    identity = load_tls(config.keys_dir)
    with client_channel(address, config.borough_code, identity) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=args.timeout, wait_for_ready=True
            )
        except grpc.RpcError as error:
            why = error.details() or error.code().name  # type: ignore[attr-defined]
            print(f"{address}: not serving ({why})", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"{address}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from node.web.serve import run

    if args.workers is not None and args.workers < 1:
        raise CommandError("--workers: at least 1")
    with _open(args) as node:  # refuse missing keys or a store behind this release, before binding
        config = node.config
    alongside = None
    if config.federation is not None:
        from node.federation.serving import serving_federation

        def alongside() -> AbstractContextManager[object]:
            return serving_federation(config)

    run(config, host=args.host, port=args.port, workers=args.workers, alongside=alongside)
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
    lift = user.add_parser(
        "lift-delays", help="let a user whose sign-in is slowed by failed attempts sign in now"
    )
    lift.add_argument("username")
    lift.set_defaults(run=cmd_user_lift_delays)

    agency = commands.add_parser("agency", help="the agencies of this hub").add_subparsers(
        dest="action", required=True
    )
    agency.add_parser(
        "list", help="list the agencies (set them in the configuration file)"
    ).set_defaults(run=cmd_agency_list)

    imp = commands.add_parser(
        "import",
        help="import an agency's extract files (CSV or JSON Lines)",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("--agency", required=True, help="the agency whose data this is")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument(
        "--remove-missing",
        action="store_true",
        help="the files are a full extract: remove this agency's records and items not in them",
    )
    imp.add_argument(
        "--rejects",
        metavar="FILE",
        help="import the good rows and write every refused row to FILE, with its file, line and "
        f"reasons (exit status {EXIT_ROWS_REFUSED} when rows were refused)",
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

    disclosures = commands.add_parser(
        "disclosures",
        help="requests made of other boroughs and of this hub: states and timings (administrators "
        "and auditors)",
    ).add_subparsers(dest="action", required=True)
    listing = disclosures.add_parser("list", help="every request, newest first")
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--incoming", action="store_true", help="only requests made of this hub")
    which.add_argument("--outgoing", action="store_true", help="only requests made by this hub")
    listing.set_defaults(run=cmd_disclosures_list)
    show = disclosures.add_parser("show", help="one request and who took each step, when")
    show.add_argument("id", help="the request's id as the list shows it (in-N or out-N)")
    show.set_defaults(run=cmd_disclosures_show)

    aud = commands.add_parser("audit", help="verify and export the audit log").add_subparsers(
        dest="action", required=True
    )
    verify = aud.add_parser(
        "verify",
        help="prove the audit log intact or name the first bad entry (exit 3)",
        description=VERIFY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "--against-coordinator",
        action="store_true",
        help="also hold the log to every checkpoint the coordinator keeps of it (exit 3 if not)",
    )
    verify.set_defaults(run=cmd_audit_verify)
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

    harm = commands.add_parser(
        "cumulative-harm", help="the hub's cumulative-harm rules and flags"
    ).add_subparsers(dest="action", required=True)
    harm.add_parser(
        "evaluate",
        help="evaluate every rule for everyone named in a recent contact (run nightly, e.g. "
        "from cron or a systemd timer)",
    ).set_defaults(run=cmd_harm_evaluate)
    harm.add_parser("rules", help="the rules in force and their version").set_defaults(
        run=cmd_harm_rules
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

    check = commands.add_parser(
        "check", help="ask the other boroughs whether they hold anything on a person"
    )
    check.add_argument("--forenames")
    check.add_argument("--surname")
    check.add_argument("--date-of-birth", help="e.g. 2015-03-14 or 14/03/2015")
    check.add_argument("--postcode")
    check.add_argument("--nhs-number")
    check.add_argument("--file", help="a persons file (the import's columns): one check a row")
    check.add_argument("--output", help="with --file: write the answers here as CSV")
    check.add_argument("--reference", help="the referral reference the check is for")
    check.add_argument(
        "--purpose", required=True, help="why (shown to every borough asked, and audited)"
    )
    check.set_defaults(run=cmd_check)

    peers = commands.add_parser("peers", help="the boroughs this node checks with").add_subparsers(
        dest="action", required=True
    )
    peers.add_parser(
        "list", help="each peer: reachable, its filter's epoch and age, its key set"
    ).set_defaults(run=cmd_peers_list)
    peers.add_parser("refresh", help="fetch every peer's latest index filter now").set_defaults(
        run=cmd_peers_refresh
    )

    tls = commands.add_parser(
        "tls", help="the node's TLS certificate for the federation"
    ).add_subparsers(dest="action", required=True)
    request = tls.add_parser("request", help="make the node's key and certificate request")
    request.add_argument("--out", help="where to write the request (default: BOROUGH.csr)")
    request.set_defaults(run=cmd_tls_request)
    install = tls.add_parser("install", help="install the certificate the CA issued")
    install.add_argument("--certificate", required=True, help="the issued certificate (PEM)")
    install.add_argument("--ca", required=True, help="the federation CA's certificate (PEM)")
    install.set_defaults(run=cmd_tls_install)

    enrol_cmd = commands.add_parser(
        "enrol",
        help="join the federation through the coordinator with a one-time token",
        description="Make the node's TLS key and certificate request here (the key never "
        "leaves), send them with the node's public keys and endpoint to the coordinator's "
        "enrolment port with the token `mash-coordinator enrol-token` printed, install the "
        "certificate the federation CA issues and pin the coordinator's directory key.",
    )
    enrol_cmd.add_argument(
        "--coordinator", required=True, metavar="HOST:PORT", help="its enrolment port"
    )
    enrol_cmd.add_argument("--token", help="the one-time token (or $MASH_ENROL_TOKEN)")
    enrol_cmd.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help="where peers reach this node's federation gRPC (default: federation.host:port)",
    )
    enrol_cmd.set_defaults(run=cmd_enrol)

    keys = commands.add_parser("keys", help="the node's keys").add_subparsers(
        dest="action", required=True
    )
    keys.add_parser(
        "rotate-oprf", help="start a new OPRF epoch (its index is built; the old one retires)"
    ).set_defaults(run=cmd_keys_rotate_oprf)

    idx = commands.add_parser(
        "index", help="this node's published index for other boroughs' checks"
    ).add_subparsers(dest="action", required=True)
    idx.add_parser("refresh", help="bring the index up to the store's match keys now").set_defaults(
        run=cmd_index_refresh
    )

    health = commands.add_parser(
        "health", help="whether this node's federation gRPC server answers (gRPC health)"
    )
    health.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for it (default: 10)"
    )
    health.set_defaults(run=cmd_health)
    serve = commands.add_parser(
        "serve", help="serve the web UI (waitress), and the federation's gRPC when configured"
    )
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
