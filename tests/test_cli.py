"""The `mash-node` command line, end to end on a real store (SQLite, and PostgreSQL for init/import)."""

from __future__ import annotations

import csv
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.cli import main
from node.config import render_config
from tests.conftest import fresh_pg_database
from tests.helpers import write_csv

ADMIN_PW = "hub pass phrase 1"
POLICE_PW = "station pass phrase 2"
PEOPLE = [
    {
        "record_id": "P1",
        "forenames": "John",
        "surname": "Smith",
        "date_of_birth": "2015-03-14",
        "postcode": "E8 1AB",
        "nhs_number": "9434765919",
    },
]
ITEMS = [
    {
        "item_ref": "CAD-1",
        "record_id": "P1",
        "date": "2026-10-01",
        "category": "Domestic incident",
        "summary": "Police attended a domestic incident",
    }
]


class Cli:
    def __init__(
        self, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.config = config
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(
        self,
        *args: str,
        user: str | None = None,
        password: str | None = None,
        new_password: str | None = None,
    ) -> tuple[int, str, str]:
        for name, value in (
            ("MASH_USER", user),
            ("MASH_PASSWORD", password),
            ("MASH_NEW_PASSWORD", new_password),
        ):
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)
        self.capsys.readouterr()
        code = main(["--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def as_admin(self, *args: str, **kw: str) -> tuple[int, str, str]:
        return self(*args, user="admin", password=ADMIN_PW, **kw)


def _node(tmp_path: Path, capsys, monkeypatch, database_url: str = "") -> Cli:
    config = tmp_path / "node.toml"
    text_ = render_config("hackney", "Hackney", ["police", "health", "education"])
    if database_url:
        text_ = text_.replace(
            'data_dir = "data"\n', f'data_dir = "data"\ndatabase_url = "{database_url}"\n', 1
        )
    config.write_text(text_, encoding="utf-8")
    cli = Cli(config, capsys, monkeypatch)
    code, out, err = cli("init", password=ADMIN_PW)
    assert code == 0, err
    return cli


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return _node(tmp_path, capsys, monkeypatch)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database("mash_cli") as url:
        yield url


def test_init_makes_private_keys_and_keeps_everything_when_run_again(
    cli: Cli, tmp_path: Path
) -> None:
    keys = tmp_path / "data" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    assert set(before) == {"signing.key", "box.key", "oprf-1.key", "web.key", "audit-checkpoints"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir())
    code, out, _ = cli("init", password="another password 2")
    assert code == 0
    assert "existing keys kept" in out and "already exists" in out
    after = {p.name: p.read_bytes() for p in keys.iterdir()}
    filed = before.pop("audit-checkpoints")
    assert after.pop("audit-checkpoints").startswith(filed)  # only appended to
    assert after == before
    assert cli.as_admin("user", "list")[0] == 0  # the first password still works


def test_init_makes_the_data_directory_and_store_private_and_tightens_an_older_one(
    cli: Cli, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    store = sorted(p for p in data.iterdir() if p.name.startswith("node.db"))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert [p.name for p in store][:1] == ["node.db"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in store} == {p.name: 0o600 for p in store}
    for path in (data, *store):  # as a store made before the rule was left
        path.chmod(0o755 if path == data else 0o644)
    assert cli("init", password=ADMIN_PW)[0] == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in store if p.exists()} == {0o600}


def test_users_are_added_listed_and_disabled(cli: Cli) -> None:
    code, out, err = cli.as_admin(
        "user",
        "add",
        "jo.police",
        "--role",
        "agency-professional",
        "--agency",
        "police",
        "--name",
        "Jo Police",
        new_password=POLICE_PW,
    )
    assert code == 0, err
    code, out, _ = cli.as_admin("user", "list")
    assert "jo.police" in out and "agency-professional" in out and "police" in out
    assert cli.as_admin("user", "disable", "jo.police")[0] == 0
    code, _, err = cli("user", "list", user="jo.police", password=POLICE_PW)
    assert code == 1 and "wrong username or password" in err
    code, _, err = cli.as_admin(
        "user",
        "add",
        "x.y",
        "--role",
        "mash-manager",
        "--agency",
        "police",
        "--name",
        "X",
        new_password=POLICE_PW,
    )
    assert code == 1 and "agency:" in err


def test_import_search_and_firewall(cli: Cli, tmp_path: Path) -> None:
    cli.as_admin(
        "user",
        "add",
        "jo.police",
        "--role",
        "agency-professional",
        "--agency",
        "police",
        "--name",
        "Jo Police",
        new_password=POLICE_PW,
    )
    cli.as_admin(
        "user",
        "add",
        "sam.health",
        "--role",
        "agency-professional",
        "--agency",
        "health",
        "--name",
        "Sam Health",
        new_password=POLICE_PW,
    )
    people, items = write_csv(tmp_path / "p.csv", PEOPLE), write_csv(tmp_path / "i.csv", ITEMS)
    code, out, err = cli.as_admin("import", "--agency", "police", str(people), str(items))
    assert code == 0, err
    assert "1 persons rows: 1 new" in out and "1 items rows: 1 new" in out
    code, out, _ = cli(
        "search",
        "--surname",
        "Smyth",
        "--forenames",
        "Jon",
        "--purpose",
        "MASH-1",
        user="jo.police",
        password=POLICE_PW,
    )
    assert code == 0
    assert "Police (1)" in out and "Police attended a domestic incident" in out
    code, out, _ = cli(
        "search", "--surname", "Smith", "--purpose", "MASH-1", user="sam.health", password=POLICE_PW
    )
    assert "Police (1)" in out and "domestic" not in out and "P1" not in out
    code, _, err = cli(
        "search", "--surname", "Smith", "--purpose", "MASH-1", user="admin", password=ADMIN_PW
    )
    assert code == 1 and "may not" in err


def test_bad_import_lists_every_problem_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path / "bad.csv",
        [*PEOPLE, {"record_id": "", "surname": "X"}, {"record_id": "P3", "surname": ""}],
    )
    code, out, err = cli.as_admin("import", "--agency", "police", str(bad))
    assert code == 1
    assert f"{bad}:3:record_id: is required" in err
    assert f"{bad}:4:surname: is required" in err
    assert "nothing was imported" in err
    cli.as_admin(
        "user",
        "add",
        "jo.police",
        "--role",
        "agency-professional",
        "--agency",
        "police",
        "--name",
        "Jo Police",
        new_password=POLICE_PW,
    )
    _, out, _ = cli(
        "search", "--surname", "Smith", "--purpose", "x", user="jo.police", password=POLICE_PW
    )
    assert "No subject found" in out


def test_audit_verify_export_and_tamper_detection(cli: Cli, tmp_path: Path) -> None:
    cli.as_admin(
        "user", "add", "aud", "--role", "auditor", "--name", "Audrey", new_password=POLICE_PW
    )
    cli("user", "list", user="admin", password="wrong password")
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out
    export = tmp_path / "audit.csv"
    code, _, err = cli(
        "audit",
        "export",
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--purpose",
        "review",
        "--output",
        str(export),
        user="aud",
        password=POLICE_PW,
    )
    assert code == 0, err
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert [r["action"] for r in rows][:2] == ["user.add", "user.add"]
    assert "sign-in.failed" in [r["action"] for r in rows]
    with sqlite3.connect(tmp_path / "data" / "node.db") as db:
        db.execute("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2")
    code, _, err = cli("audit", "verify")
    assert code == 3 and "FAILED" in err and "audit entry 2:" in err
    assert err.count("\n") == 1  # one line


def test_audit_verify_reports_entries_after_the_last_checkpoint_and_its_exit_statuses(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from node import audit
    from node.access import Actor
    from node.runtime import Node

    with Node.open(cli.config) as node, node.unit_of_work() as session:  # as the web: no checkpoint
        audit.record(session, Actor.system("test"), "record.view")
        audit.record(session, Actor.system("test"), "record.view")

    code, out, _ = cli("audit", "verify")

    assert code == 0 and "Audit log intact: 3 entries, 1 signed checkpoint(s)" in out
    assert "audit-checkpoints: 1 checkpoint(s)" in out
    assert "2 entries after the last checkpoint, the oldest from 20" in out and " s ago)" in out
    assert cli("audit", "checkpoint")[0] == 0
    assert "after the last checkpoint" not in cli("audit", "verify")[1]
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--help"])
    help_text = capsys.readouterr().out
    assert "exit status:" in help_text and "3  the log failed verification" in help_text


def test_missing_config_and_password_are_clear(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("MASH_PASSWORD", raising=False)
    assert main(["--config", str(tmp_path / "none.toml"), "agency", "list"]) == 1
    assert "configuration file not found" in capsys.readouterr().err


@pytest.mark.postgres
def test_init_and_import_on_postgresql(tmp_path: Path, capsys, monkeypatch, pg_url: str) -> None:
    cli = _node(tmp_path, capsys, monkeypatch, database_url=pg_url)
    assert not (tmp_path / "data" / "node.db").exists()
    people = write_csv(tmp_path / "p.csv", PEOPLE)
    assert cli.as_admin("import", "--agency", "police", str(people))[0] == 0
    assert cli.as_admin("import", "--agency", "police", str(people))[0] == 0
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out
    assert cli("init", password=ADMIN_PW)[0] == 0


def test_a_store_behind_this_release_is_refused_until_init_upgrades_it(
    cli: Cli, tmp_path: Path
) -> None:
    from alembic import command

    from node.store.db import alembic_config, make_engine

    command.downgrade(
        alembic_config(make_engine(f"sqlite:///{tmp_path / 'data' / 'node.db'}")), "0003"
    )
    code, _, err = cli.as_admin("user", "list")
    assert code == 1 and "schema is at 0003" in err and "mash-node init" in err
    assert cli("init", password=ADMIN_PW)[0] == 0
    assert cli.as_admin("user", "list")[0] == 0


def test_keys_of_an_older_key_set_are_refused_until_init_re_derives_them(
    cli: Cli, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "p.csv", PEOPLE)
    assert cli.as_admin("import", "--agency", "police", str(people))[0] == 0
    subjects = "SELECT agency_record_id, subject_id FROM person_records"
    with sqlite3.connect(tmp_path / "data" / "node.db") as db:
        keys = db.execute("SELECT key_value, record_id FROM match_keys").fetchall()
        before = set(db.execute(subjects))
        db.execute("UPDATE store_settings SET value = '2' WHERE name = 'match_key_set'")
        db.execute("DELETE FROM match_keys")
    code, _, err = cli.as_admin("agency", "list")
    assert code == 1 and "key set 2" in err and "mash-node init" in err
    code, out, err = cli("init", password=ADMIN_PW)
    assert code == 0, err
    assert f"match keys re-derived: {len(PEOPLE)} records moved from key set 2 to 3" in out
    with sqlite3.connect(tmp_path / "data" / "node.db") as db:
        assert set(db.execute("SELECT key_value, record_id FROM match_keys")) == set(keys)
        assert set(db.execute(subjects)) == before
    assert cli.as_admin("import", "--agency", "police", str(people))[0] == 0
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out


def test_an_administrator_lifts_a_users_sign_in_wait(cli: Cli, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "data" / "node.db") as db:
        for n in range(6):
            db.execute(
                "INSERT INTO sign_in_attempts (username, address, succeeded, at) "
                "VALUES ('jo.smith', '10.0.0.1', 0, ?)",
                (f"2026-12-01 10:0{n}:00.000000",),
            )
    code, out, err = cli.as_admin("user", "lift-delays", "jo.smith")
    assert code == 0, err
    assert "jo.smith can sign in again without waiting (6 failed attempt(s) forgotten" in out
    with sqlite3.connect(tmp_path / "data" / "node.db") as db:
        assert db.execute("SELECT count(*) FROM sign_in_attempts").fetchone() == (0,)
        (action,) = db.execute(
            "SELECT action FROM audit_entries WHERE object_ref = 'user:jo.smith'"
        ).fetchone()
    assert action == "sign-in.delays-lifted"
    code, _, err = cli("user", "lift-delays", "jo.smith", user="aud", password="nobody")
    assert code == 1


def test_import_with_rejects_imports_the_good_rows_and_sets_the_bad_ones_aside(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sqlalchemy import select

    from node.runtime import Node
    from node.store.models import AuditEntry, InformationItem, PersonRecord

    good = dict(PEOPLE[0], record_id="P2", forenames="Amy")
    people = write_csv(
        tmp_path / "p.csv",
        [PEOPLE[0], {"record_id": "P9", "surname": "Jo\u202ees"}, good, dict(good, surname="")],
    )
    items = tmp_path / "i.jsonl"
    items.write_text(
        json.dumps(ITEMS[0])
        + "\n{not json\n"
        + json.dumps(dict(ITEMS[0], item_ref="CAD-9", record_id="P9"))
        + "\n"
        + json.dumps(dict(ITEMS[0], item_ref="CAD-2", record_id="P2", date="1899-12-31"))
        + "\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.jsonl"

    # Without --rejects, one bad row refuses the whole import.
    code, _, err = cli.as_admin("import", "--agency", "police", str(people), str(items))
    assert code == 1 and "nothing was imported" in err and not rejects.exists()

    code, out, err = cli.as_admin(
        "import", "--agency", "police", "--rejects", str(rejects), str(people), str(items)
    )
    assert code == 4, err
    assert "4 persons rows: 2 new, 0 updated, 2 refused" in out
    assert "4 items rows: 1 new, 0 updated, 3 refused" in out
    assert "5 row(s) refused" in err and str(rejects) in err
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["file"], e["line"], [x["field"] for x in e["errors"]]) for e in entries] == [
        (str(people), 3, ["surname"]),
        (str(people), 5, ["record_id"]),
        (str(items), 2, ["row"]),
        (str(items), 3, ["record_id"]),  # its person was refused
        (str(items), 4, ["date"]),
    ]
    assert entries[0]["row"]["surname"] == "Jo\u202ees" and entries[2]["row"] is None
    assert entries[1]["errors"][0]["reason"] == "repeats the record_id of line 4"
    with Node.open(cli.config) as node, node.reading() as session:
        assert sorted(session.scalars(select(PersonRecord.agency_record_id))) == ["P1", "P2"]
        assert session.scalars(select(InformationItem.item_ref)).all() == ["CAD-1"]
        details = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "import").order_by(AuditEntry.seq)
        ).all()
    assert [(d["kind"], d["inserted"], d["refused"]) for d in map(json.loads, details)] == [
        ("persons", 2, 2),
        ("items", 1, 3),
    ]

    # Nothing refused: exit 0 and an empty rejects file; --rejects never with --remove-missing.
    code, _, err = cli.as_admin(
        "import",
        "--agency",
        "police",
        "--rejects",
        str(rejects),
        str(write_csv(tmp_path / "ok.csv", PEOPLE)),
    )
    assert code == 0, err
    assert rejects.read_text(encoding="utf-8") == ""
    code, _, err = cli.as_admin(
        "import", "--agency", "police", "--rejects", str(rejects), "--remove-missing", str(people)
    )
    assert code == 1 and "cannot be used with --remove-missing" in err
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "4  with --rejects: the good rows were imported" in capsys.readouterr().out

    # A name of two scripts is imported, and noted with its line.
    mixed = write_csv(tmp_path / "m.csv", [dict(PEOPLE[0], record_id="P7", surname="Sm\u0456th")])
    code, out, _ = cli.as_admin("import", "--agency", "police", str(mixed))
    assert code == 0 and "note: 1 row(s): a name mixes the letters of two scripts" in out
    assert out.rstrip().splitlines()[1].endswith("(line 2)")
