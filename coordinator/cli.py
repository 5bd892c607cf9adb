"""`mash-coordinator`: the central project team's command line. In this release: the federation's
certificate authority (`ca init`, `ca issue`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mash_common import ca
from mash_common.boroughs import BoroughCodeInvalid
from mash_common.files import PrivateFileError
from mash_common.pki import CertificateError


class CommandError(Exception):
    """A command cannot go ahead as asked; the message says why."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mash-coordinator",
        description="MASH federation coordinator: the federation's certificate authority "
        "(later: pilot rollout, directory and evaluation figures).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ca_parser = commands.add_parser("ca", help="the federation's certificate authority")
    ca_commands = ca_parser.add_subparsers(dest="ca_command", required=True)

    init = ca_commands.add_parser(
        "init",
        help="create the federation CA (kept if it exists)",
        description="Create the federation CA in DIR: an ECDSA P-256 key (ca.key, readable by "
        "its owner only, never leaving DIR) and a self-signed certificate (ca.crt) valid for "
        "ten years. Run again, it keeps the CA.",
    )
    init.add_argument("--dir", type=Path, required=True, metavar="CA_DIR")
    init.set_defaults(run=cmd_ca_init)

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
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (
        CommandError,
        ca.CaError,
        CertificateError,
        BoroughCodeInvalid,
        PrivateFileError,
    ) as exc:
        print(f"mash-coordinator: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
