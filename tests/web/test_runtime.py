"""The node runtime: one way to open a node, and one unit of work for every entry point.

Checked through the entry points themselves: web actions are checkpointed as configured, a
refusal is audited once in whichever adapter it happens, and the web app refuses a store that is
behind this release as the CLI does.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from node import audit
from node.access import AccessDenied, require_manager
from node.cli import main
from node.config import load_config
from node.match_key_set import KeysOutOfDate
from node.runtime import Node
from node.store.db import StoreOutOfDate, alembic_config
from node.store.models import AuditCheckpoint, AuditEntry
from node.web import create_app
from tests.helpers import MANAGER, professional
from tests.web.conftest import WebClient, WebNode

EVERY = 5


def _set_checkpoint_interval(directory: Path, every: int) -> None:
    config = directory / "node.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[node]\n", f"[node]\naudit_checkpoint_every = {every}\n", 1), "utf-8"
    )


def _checkpoint_sizes(node: WebNode) -> list[int]:
    with node.sessions() as db:
        return list(db.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.id)))


def _audit_size(node: WebNode) -> int:
    with node.sessions() as db:
        return len(list(db.scalars(select(AuditEntry.seq))))


def test_web_actions_are_checkpointed_every_n_entries_as_configured(web_node: WebNode) -> None:
    _set_checkpoint_interval(web_node.directory, EVERY)
    app = create_app(load_config(web_node.directory / "node.toml"), testing=True)
    web = WebClient(app.test_client())
    web.sign_in(web_node.users["police.pro"])
    size, checkpoints = _audit_size(web_node), _checkpoint_sizes(web_node)
    last = max(checkpoints, default=0)

    expected = list(checkpoints)
    for _ in range(12):  # each search is one unit of work with one audit entry
        page = web.get("/search")
        web.submit(
            page, {"surname": "Nobody", "purpose": "runtime test"}, status=200, form="main form"
        )
        size += 1
        if size - last >= EVERY:
            expected.append(size)
            last = size

    assert _audit_size(web_node) == size
    assert _checkpoint_sizes(web_node) == expected
    assert len(expected) > len(checkpoints) + 1  # the test saw the interval at work
    with web_node.sessions() as db:
        report = audit.verify_store(
            db, [bytes(web_node.keys.verify_key)], anchor=web_node.node.anchor
        )
    assert report.unanchored < EVERY


def test_a_refused_unit_of_work_rolls_back_and_is_audited_once(web_node: WebNode) -> None:
    node = web_node.node
    police = professional("police")
    with pytest.raises(AccessDenied) as refused, node.unit_of_work(police) as session:
        audit.record(session, police, "should.vanish")
        require_manager(police)
    assert refused.value.audited
    node.record_refusal(police, refused.value)  # an adapter that tries again writes nothing
    with node.reading() as session:
        actions = [(e.action, e.actor) for e in session.scalars(select(AuditEntry)) if e.seq > 0]
    assert ("should.vanish", police.username) not in actions
    assert actions.count(("access.denied", police.username)) == 1


def test_a_unit_of_work_commits_and_the_cli_signs_after_every_command(web_node: WebNode) -> None:
    with Node.open(web_node.directory / "node.toml", checkpoint_every_unit=True) as node:
        with node.unit_of_work(MANAGER) as session:
            entry = audit.record(session, MANAGER, "runtime.test")
        with node.reading() as session:
            latest = audit.latest_checkpoint(session)
    assert latest is not None and latest.size == entry.seq


def test_the_web_app_refuses_a_store_behind_this_release(web_node: WebNode) -> None:
    config = web_node.config
    command.downgrade(alembic_config(web_node.node.engine), "0007")
    with pytest.raises(StoreOutOfDate, match="mash-node init"):
        create_app(config, testing=True)
    with Node.initialise(config):
        pass
    with sqlite3.connect(config.data_dir / "node.db") as db:
        db.execute("INSERT INTO store_settings (name, value) VALUES ('match_key_set', '1')")
    with pytest.raises(KeysOutOfDate, match="key set 1"):
        create_app(config, testing=True)


def test_a_refused_audit_export_is_audited_and_writes_nothing(
    web_node: WebNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = web_node.users["police.pro"]
    output = tmp_path / "audit.csv"
    args = ["--config", str(web_node.directory / "node.toml"), "--user", user.username]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MASH_PASSWORD", user.password)
        export = ["audit", "export", "--from", "2020-01-01", "--to", "2099-12-31"]
        code = main([*args, *export, "--purpose", "curious", "--output", str(output)])
    assert code == 1
    assert "needs the role" in capsys.readouterr().err
    assert not output.exists()
    with web_node.sessions() as db:
        denied = db.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
    assert [entry.actor for entry in denied] == [user.username]


def test_serving_on_a_taken_port_says_so_in_one_line(
    web_node: WebNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = ["--config", str(web_node.directory / "node.toml")]
        assert main([*config, "serve", "--port", str(port)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "in use" in err
        assert main(["demo", "--dir", str(tmp_path / "demo"), "--port", str(port)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "PORT=" in err
        assert not (tmp_path / "demo" / "data").exists()  # refused before any set-up
