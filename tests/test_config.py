"""The node configuration: what a valid file gives, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import ConfigError, load_config, render_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_config_loads_with_sqlite_default_in_data_dir(tmp_path: Path) -> None:
    path = write(tmp_path, render_config("hackney", "Hackney", ["police", "health"]))
    config = load_config(path)
    assert config.borough_code == "hackney"
    assert config.data_dir == tmp_path / "data"
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'node.db'}"
    assert [a.code for a in config.agencies] == ["police", "health"]
    assert config.agency("health").is_health
    assert not config.agency("police").is_health


def test_custom_agency_and_contact_routes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        render_config("lambeth", "Lambeth", ["police", "idva"])
        + '[[hub.custom_agency]]\ncode = "idva"\nname = "IDVA service"\n'
        + '[hub.contact_routes]\npolice = "desk 1"\n',
    )
    config = load_config(path)
    assert config.agency("idva").name == "IDVA service"
    assert not config.agency("idva").standard
    assert config.agency("police").contact_route == "desk 1"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[hub]\nagencies=["police"]\n', "[node]"),
        ('[node]\nborough_name="X"\n[hub]\nagencies=["police"]\n', "node.borough_code"),
        (
            '[node]\nborough_code="Hackney!"\nborough_name="X"\n[hub]\nagencies=["police"]\n',
            "node.borough_code",
        ),
        ('[node]\nborough_code="hackney"\n[hub]\nagencies=["police"]\n', "node.borough_name"),
        ('[node]\nborough_code="hackney"\nborough_name="H"\n[hub]\nagencies=[]\n', "hub.agencies"),
        ('[node]\nborough_code="hackney"\nborough_name="H"\n[hub]\nagencies=["fire"]\n', "'fire'"),
        (
            '[node]\nborough_code="hackney"\nborough_name="H"\ndatabase_url="mysql://x"\n[hub]\nagencies=["police"]\n',
            "node.database_url",
        ),
        (
            '[node]\nborough_code="hackney"\nborough_name="H"\naudit_checkpoint_every=0\n[hub]\nagencies=["police"]\n',
            "node.audit_checkpoint_every",
        ),
        (
            '[node]\nborough_code="hackney"\nborough_name="H"\n[hub]\nagencies=["police"]\n[extra]\n',
            "extra",
        ),
        ("[node\n", "not valid TOML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert names in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_referral_and_web_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render_config("hackney", "Hackney", ["police"])))
    assert config.referrals.reference_prefix == "HAC"
    assert config.referrals.hours == {"red": 4.0, "amber": 24.0, "green": 72.0}
    assert config.referrals.working_days == (0, 1, 2, 3, 4)
    assert (config.referrals.day_starts.hour, config.referrals.day_ends.hour) == (9, 17)
    assert config.web.secure_cookies and config.web.idle_minutes == 30
    assert config.web.workers == 1


def test_referral_policy_is_configurable(tmp_path: Path) -> None:
    text = render_config("hackney", "Hackney", ["police"]) + (
        '[referrals]\nred_hours = 2\nworking_days = ["mon", "wed"]\nworking_hours = "08:30-18:00"\n'
        'reference_prefix = "HK"\n[web]\nport = 9000\nsecure_cookies = false\nworkers = 2\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.referrals.hours["red"] == 2.0
    assert config.referrals.working_days == (0, 2)
    assert (config.referrals.day_starts.minute, config.referrals.day_ends.hour) == (30, 18)
    assert config.referrals.reference_prefix == "HK"
    assert (config.web.port, config.web.secure_cookies, config.web.workers) == (9000, False, 2)


@pytest.mark.parametrize(
    ("section", "names"),
    [
        ('[referrals]\nred_hours = "soon"\n', "referrals.red_hours"),
        ('[referrals]\nworking_days = ["someday"]\n', "referrals.working_days"),
        ('[referrals]\nworking_hours = "17:00-09:00"\n', "referrals.working_hours"),
        ('[referrals]\ntimezone = "Mars/Olympus"\n', "referrals.timezone"),
        ("[web]\nport = 70000\n", "web.port"),
        ('[web]\nsecure_cookies = "no"\n', "web.secure_cookies"),
        ("[web]\nworkers = 0\n", "web.workers"),
    ],
)
def test_invalid_referral_and_web_settings(tmp_path: Path, section: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_config(write(tmp_path, render_config("hackney", "Hackney", ["police"]) + section))


def test_federation_section_is_optional_with_defaults(tmp_path: Path) -> None:
    starter = render_config("hackney", "Hackney", ["police"])
    assert load_config(write(tmp_path, starter)).federation is None
    federation = load_config(write(tmp_path, starter + "[federation]\n")).federation
    assert federation is not None and (federation.host, federation.port) == ("127.0.0.1", 50051)
    text = starter + '[federation]\nhost = "0.0.0.0"\nport = 7443\n'
    federation = load_config(write(tmp_path, text)).federation
    assert federation is not None and (federation.host, federation.port) == ("0.0.0.0", 7443)


@pytest.mark.parametrize(
    ("section", "names"),
    [
        ('[federation]\nport = "7443"\n', "federation.port"),
        ("[federation]\nport = -1\n", "federation.port"),
        ("[federation]\nport = true\n", "federation.port"),
        ('[federation]\nhost = ""\n', "federation.host"),
        ("[federation]\nhost = 1\n", "federation.host"),
        ('[federation]\npeers = ["camden"]\n', "federation.peers"),
        ('federation = "on"\n', "[federation]"),
    ],
)
def test_invalid_federation_settings_name_the_key(tmp_path: Path, section: str, names: str) -> None:
    text = render_config("hackney", "Hackney", ["police"])
    text = section + text if not section.startswith("[") else text + section
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert names in str(caught.value)
    assert str(tmp_path / "node.toml") in str(caught.value)
