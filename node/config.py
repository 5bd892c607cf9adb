"""The node's configuration: one TOML file, validated into a frozen value with errors that name the key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.agencies import STANDARD_AGENCIES, AgencyDefinition

_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or has an invalid setting."""


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    borough_code: str
    borough_name: str
    data_dir: Path
    database_url: str
    agencies: tuple[AgencyDefinition, ...]
    audit_checkpoint_every: int

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def agency(self, code: str) -> AgencyDefinition:
        for agency in self.agencies:
            if agency.code == code:
                return agency
        raise KeyError(code)


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a node configuration file."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> NodeConfig:
    node = _table(raw, "node", path)
    borough_code = _string(node, "node.borough_code", path)
    if not _CODE.match(borough_code):
        raise ConfigError(
            f"{path}: node.borough_code {borough_code!r} must be lower-case letters, digits "
            "and hyphens, starting with a letter (e.g. 'hackney')"
        )
    borough_name = _string(node, "node.borough_name", path)
    data_dir = Path(_string(node, "node.data_dir", path, default="data"))
    if not data_dir.is_absolute():
        data_dir = (path.parent / data_dir).resolve()
    database_url = _string(node, "node.database_url", path, default="")
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'node.db'}"
    elif not database_url.startswith(("sqlite://", "postgresql")):
        raise ConfigError(
            f"{path}: node.database_url must start with 'sqlite://' or 'postgresql', "
            f"got {database_url.split(':', 1)[0]!r}"
        )
    checkpoint_every = node.get("audit_checkpoint_every", 100)
    if (
        not isinstance(checkpoint_every, int)
        or isinstance(checkpoint_every, bool)
        or not (1 <= checkpoint_every <= 100_000)
    ):
        raise ConfigError(f"{path}: node.audit_checkpoint_every must be a whole number 1-100000")

    hub = _table(raw, "hub", path)
    agencies = _agencies(hub, path)
    unknown = set(raw) - {"node", "hub"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    return NodeConfig(
        path=path,
        borough_code=borough_code,
        borough_name=borough_name,
        data_dir=data_dir,
        database_url=database_url,
        agencies=agencies,
        audit_checkpoint_every=checkpoint_every,
    )


def _agencies(hub: dict[str, Any], path: Path) -> tuple[AgencyDefinition, ...]:
    codes = hub.get("agencies")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise ConfigError(
            f"{path}: hub.agencies must be a non-empty list of agency codes, e.g. "
            '["police", "childrens-social-care", "health"]'
        )
    custom: dict[str, AgencyDefinition] = {}
    for index, entry in enumerate(hub.get("custom_agency", [])):
        key = f"hub.custom_agency[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {key} must be a table")
        code = _string(entry, f"{key}.code", path)
        if not _CODE.match(code):
            raise ConfigError(
                f"{path}: {key}.code {code!r} must be lower-case letters, digits, hyphens"
            )
        if code in STANDARD_AGENCIES:
            raise ConfigError(
                f"{path}: {key}.code {code!r} is a standard agency; list it in hub.agencies"
            )
        custom[code] = AgencyDefinition(
            code=code,
            name=_string(entry, f"{key}.name", path),
            contact_route=_string(entry, f"{key}.contact_route", path, default=""),
            is_health=bool(entry.get("health", False)),
            standard=False,
        )
    agencies: list[AgencyDefinition] = []
    for code in codes:
        if code in STANDARD_AGENCIES:
            agencies.append(STANDARD_AGENCIES[code])
        elif code in custom:
            agencies.append(custom[code])
        else:
            raise ConfigError(
                f"{path}: hub.agencies names {code!r}, which is neither a standard agency "
                f"({', '.join(STANDARD_AGENCIES)}) nor a [[hub.custom_agency]]"
            )
    if len({a.code for a in agencies}) != len(agencies):
        raise ConfigError(f"{path}: hub.agencies lists an agency twice")
    contact_routes = hub.get("contact_routes", {})
    if not isinstance(contact_routes, dict):
        raise ConfigError(f"{path}: hub.contact_routes must be a table of agency code = route")
    for code, route in contact_routes.items():
        if code not in {a.code for a in agencies} or not isinstance(route, str):
            raise ConfigError(f"{path}: hub.contact_routes.{code} names no agency of this hub")
    return tuple(
        AgencyDefinition(
            a.code, a.name, contact_routes.get(a.code, a.contact_route), a.is_health, a.standard
        )
        for a in agencies
    )


def _table(raw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: missing section [{key}]")
    return value


def _string(table: dict[str, Any], key: str, path: Path, default: str | None = None) -> str:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if value is None:
        raise ConfigError(f"{path}: missing setting {key}")
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    if default is None and not value.strip():
        raise ConfigError(f"{path}: {key} must not be empty")
    return value


def render_config(
    borough_code: str, borough_name: str, agencies: list[str], data_dir: str = "data"
) -> str:
    """A starter configuration file, as `mash-node demo` and the docs write it."""
    listed = ", ".join(f'"{code}"' for code in agencies)
    return (
        "# Hub node configuration. Paths are relative to this file.\n"
        "[node]\n"
        f'borough_code = "{borough_code}"\n'
        f'borough_name = "{borough_name}"\n'
        f'data_dir = "{data_dir}"\n'
        '# database_url = "postgresql+psycopg://mash@127.0.0.1:5432/mash_hackney"\n'
        "\n[hub]\n"
        f"agencies = [{listed}]\n"
    )
