"""The demo: one command gives three hub nodes that check each other, with shared accounts,
overlapping synthetic data and referrals, enrolled through the programme's coordinator (no
peers file: each holds the coordinator's signed directory); run again, it keeps them."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from node.config import load_config
from node.demo import ACCOUNTS_FILE, BOROUGHS, demo_accounts, run_demo
from node.federation.directory import held_directory
from node.keys import load_enrolment


def test_demo_builds_three_boroughs_and_a_second_run_keeps_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(tmp_path / "demo", households=150) == 0
    out = capsys.readouterr().out
    accounts = tmp_path / "demo" / ACCOUNTS_FILE
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    for username, *_ in demo_accounts():
        assert username in out
    for code, name in BOROUGHS:
        assert f"{name}: " in out
        assert (tmp_path / "demo" / code / "data" / "index").is_dir()  # its index, published
        assert not (tmp_path / "demo" / code / "peers.toml").exists()
        config = load_config(tmp_path / "demo" / code / "node.toml")
        assert load_enrolment(config.keys_dir) is not None
        held = held_directory(config)
        assert held is not None
        assert sorted(n.borough for n in held.nodes) == sorted(c for c, _ in BOROUGHS)
        assert f"{name}: enrolled through the coordinator" in out
    hackney = tmp_path / "demo" / "hackney" / "data" / "node.db"
    lambeth = tmp_path / "demo" / "lambeth" / "data" / "node.db"
    with sqlite3.connect(hackney) as conn:
        statuses = sorted(s for (s,) in conn.execute("SELECT status FROM referrals"))
        records = conn.execute("SELECT count(*) FROM person_records").fetchone()[0]
        audit_size = conn.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
        flagged = conn.execute(
            "SELECT r.status FROM harm_flags f JOIN referral_people p ON p.subject_id = f.subject_id"
            " JOIN referrals r ON r.id = p.referral_id"
            " WHERE f.rule_key = 'three-agencies' AND f.state = 'open'"
        ).fetchall()
        involved = conn.execute(
            "SELECT count(*) FROM person_records WHERE json_extract(extra, '$.open_case') = 'yes'"
        ).fetchone()[0]
    assert ("awaiting-triage",) in flagged  # the school's contact, on the manager's queue
    assert involved > 0
    assert statuses == [
        "awaiting-triage",
        *["decided"] * 3,
        *["in-research"] * 3,
    ]
    assert records > 300
    with sqlite3.connect(lambeth) as conn:
        (moved,) = conn.execute(
            "SELECT reference FROM referrals WHERE account LIKE '%joined this term from Hackney%'"
        ).fetchone()
    assert f"open referral {moved}" in out

    before = accounts.read_text()
    assert run_demo(tmp_path / "demo", households=150) == 0
    assert accounts.read_text() == before
    with sqlite3.connect(hackney) as conn:
        assert conn.execute("SELECT count(*) FROM referrals").fetchone()[0] == 7
        assert conn.execute("SELECT count(*) FROM person_records").fetchone()[0] == records
        assert conn.execute("SELECT count(*) FROM audit_entries").fetchone()[0] > audit_size
    with sqlite3.connect(lambeth) as conn:
        assert conn.execute("SELECT count(*) FROM referrals").fetchone()[0] == 8
    # The coordinator: set up beside them, each node enrolled with it once, its own accounts
    # printed; each node has this month's and last month's figures queued for it, once.
    with sqlite3.connect(tmp_path / "demo" / "coordinator" / "data" / "coordinator.db") as conn:
        enrolled = sorted(b for (b,) in conn.execute("SELECT borough FROM enrolled_nodes"))
        tokens = conn.execute("SELECT count(*) FROM enrolment_tokens").fetchone()[0]
    assert enrolled == sorted(c for c, _ in BOROUGHS) and tokens == 3
    assert "demo.editor" in capsys.readouterr().out
    with sqlite3.connect(hackney) as conn:
        months = [m for (m,) in conn.execute("SELECT month FROM evaluation_report_queue")]
    assert len(months) == len(set(months)) == 2
