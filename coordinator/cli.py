"""`mash-coordinator`: the central project team's command line (commands arrive with the coordinator)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mash-coordinator",
        description="MASH federation coordinator: pilot rollout, federation directory and "
        "evaluation figures. No commands are available in this release.",
    )
    parser.parse_args(argv)
    parser.print_help()
    return 0
