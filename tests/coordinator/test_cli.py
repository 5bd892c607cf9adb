"""`mash-coordinator`'s commands and its configuration: init creates what is missing and keeps
what is there, users are managed by administrators only, a node is added to the config only with
its own certificate, and every bad setting stops the coordinator naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.cli import main
from coordinator.config import ConfigError, load_config, render_config
from mash_common import ca


def _init(
    directory: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    (directory / "coordinator.toml").write_text(render_config(secure=False), encoding="utf-8")
    monkeypatch.setenv("MASH_PASSWORD", "Chosen-firmly-2026")
    assert main(["--config", str(directory / "coordinator.toml"), "init"]) == 0
    return capsys.readouterr().out


def test_init_makes_everything_once_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _init(tmp_path, monkeypatch, capsys)
    key = (tmp_path / "data" / "keys" / "web.key").read_bytes()
    again = _init(tmp_path, monkeypatch, capsys)

    assert "33 authorities and 4 waves added" in first
    assert "federation CA: created" in first and "first administrator: admin" in first
    assert "0 authorities and 0 waves added" in again
    assert "federation CA: kept" in again and "already exists" in again
    assert (tmp_path / "data" / "keys" / "web.key").read_bytes() == key
    assert (tmp_path / "data" / "tls" / "tls.crt").exists()


def test_users_are_added_listed_and_disabled_by_an_administrator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(tmp_path, monkeypatch, capsys)
    config = ["--config", str(tmp_path / "coordinator.toml")]
    monkeypatch.setenv("MASH_USER", "admin")
    monkeypatch.setenv("MASH_NEW_PASSWORD", "Planning-board-77")

    added = main(
        [*config, "user", "add", "p.team", "--role", "project-team-editor", "--name", "Pat Team"]
    )
    weak = main([*config, "user", "add", "x", "--role", "viewer", "--name", "X"])
    listed = main([*config, "user", "list"])
    out = capsys.readouterr()
    disabled = main([*config, "user", "disable", "p.team"])
    monkeypatch.setenv("MASH_USER", "p.team")
    monkeypatch.setenv("MASH_PASSWORD", "Planning-board-77")
    refused = main([*config, "user", "list"])
    err = capsys.readouterr().err

    assert (added, weak, listed, disabled, refused) == (0, 1, 0, 0, 1)
    assert "Added p.team (Project team editor)" in out.out
    assert "username: 3-80 characters" in out.err
    assert "p.team" in out.out and "at next sign-in" in out.out
    assert "wrong username or password, or the account is disabled" in err


def test_a_node_is_added_with_its_own_certificate_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(tmp_path, monkeypatch, capsys)
    config = ["--config", str(tmp_path / "coordinator.toml")]
    ca.issue_with_key(tmp_path / "ca", "hackney", tmp_path / "hackney")
    key = "ab" * 32

    wrong = main([*config, "nodes", "add", "--borough", "camden", "--verify-key", key,
                  "--certificate", str(tmp_path / "hackney" / "tls.crt")])  # fmt: skip
    short = main([*config, "nodes", "add", "--borough", "hackney", "--verify-key", "abc",
                  "--certificate", str(tmp_path / "hackney" / "tls.crt")])  # fmt: skip
    added = main([*config, "nodes", "add", "--borough", "hackney", "--verify-key", key,
                  "--certificate", str(tmp_path / "hackney" / "tls.crt")])  # fmt: skip
    err = capsys.readouterr().err

    assert (wrong, short, added) == (1, 1, 0)
    assert "is 'hackney''s certificate, not 'camden''s" in err
    assert "64 hex digits" in err
    [node] = load_config(tmp_path / "coordinator.toml").nodes
    assert (node.borough, node.verify_key) == ("hackney", bytes.fromhex(key))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[coordinator]\ncolour = 'blue'\n", "coordinator.colour"),
        ("[coordinator]\n[web]\nport = 70000\n", "web.port"),
        ("[coordinator]\n[web]\nsecure_cookies = 'yes'\n", "web.secure_cookies"),
        ("[coordinator]\n[grpc]\nport = -1\n", "grpc.port"),
        ("[coordinator]\ndatabase_url = 'mysql://x'\n", "coordinator.database_url"),
        ("[coordinator]\n[[nodes]]\nborough = 'Hackney!'\n", "nodes[0].borough"),
        (
            "[coordinator]\n[[nodes]]\nborough = 'hackney'\nverify_key = 'zz'\n",
            "nodes[0].verify_key",
        ),
        ("[coordinator]\n[extra]\n", "unknown section"),
        ("[web]\n", "[coordinator]"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "coordinator.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert key in str(refused.value)
