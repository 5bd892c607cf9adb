"""The coordinator's configuration: one TOML file, validated into a frozen value with errors that
name the key.

    [coordinator]
    name = "London MASH programme"    # shown in the UI and the reports
    data_dir = "data"                  # relative to this file: keys, TLS files, the SQLite store
    # database_url = "postgresql+psycopg://mash@127.0.0.1:5432/mash_coordinator"

    [web]                              # as the node's: host, port, secure_cookies, idle_minutes,
    port = 8090                        # absolute_hours

    [grpc]                             # where the nodes send their figures (mutual TLS)
    host = "127.0.0.1"
    port = 50070
    ca_dir = "ca"                      # the federation CA `init` makes (if missing) and uses
    enrol_port = 50071                 # where `mash-node enrol` reaches it (token-authenticated)
    address = "coordinator.example.org:50070"  # the mTLS address nodes are told at enrolment

    [directory]                        # the signed directory of enrolled nodes
    valid_seconds = 86400              # a node stops using a directory this long after signing
    token_hours = 24                   # how long an enrolment token can be used (once)
    silent_after_seconds = 900         # a node not heard from for this long is flagged

    [[nodes]]                          # until the directory exists: each node's keys
    borough = "hackney"
    verify_key = "<64 hex digits: the node's Ed25519 verify key>"
    certificate = "nodes/hackney.crt"  # its TLS certificate, as the federation CA issued it
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.errors import DomainError, ErrorCode
from mash_common.boroughs import is_borough_code
from mash_common.pki import CertificateError, borough_of_certificate, load_certificate

_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_WEB_PORT = 8090
DEFAULT_GRPC_PORT = 50070
DEFAULT_ENROL_PORT = 50071


class ConfigError(DomainError):
    """The configuration file is missing, unreadable or has an invalid setting."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    secure_cookies: bool  # False only for a demo on http://127.0.0.1
    idle_minutes: int
    absolute_hours: int


@dataclass(frozen=True)
class GrpcSettings:
    host: str
    port: int
    ca_dir: Path
    enrol_port: int = 50071
    address: str = ""  # what nodes are told to dial; "" = host:port

    def advertised(self, bound_port: int | None = None) -> str:
        return self.address or f"{self.host}:{self.port if bound_port is None else bound_port}"


@dataclass(frozen=True)
class DirectorySettings:
    valid_seconds: int = 86400
    token_hours: int = 24
    silent_after_seconds: int = 900


@dataclass(frozen=True)
class KnownNode:
    """A hub node the coordinator accepts reports from: its borough, Ed25519 verify key and TLS
    certificate (PEM), as its config says until the directory of part 2 replaces it."""

    borough: str
    verify_key: bytes
    certificate_pem: bytes


@dataclass(frozen=True)
class CoordinatorConfig:
    path: Path
    name: str
    data_dir: Path
    database_url: str
    web: WebSettings
    grpc: GrpcSettings
    nodes: tuple[KnownNode, ...]
    directory: DirectorySettings = DirectorySettings()

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    def node(self, borough: str) -> KnownNode | None:
        for node in self.nodes:
            if node.borough == borough:
                return node
        return None


def load_config(path: str | Path) -> CoordinatorConfig:
    """Read and validate a coordinator configuration file."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path)


_SECTIONS = ("coordinator", "web", "grpc", "nodes", "directory")


def parse_config(raw: dict[str, Any], path: Path) -> CoordinatorConfig:
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(unknown)}")
    main = _table(raw, "coordinator", path, required=True)
    _only(main, "coordinator", ("name", "data_dir", "database_url"), path)
    name = _string(main, "coordinator.name", path, default="London MASH programme")
    if not name.strip():
        raise ConfigError(f"{path}: coordinator.name must not be empty")
    data_dir = _relative(path, _string(main, "coordinator.data_dir", path, default="data"))
    database_url = _string(main, "coordinator.database_url", path, default="")
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'coordinator.db'}"
    elif not database_url.startswith(("sqlite://", "postgresql")):
        raise ConfigError(
            f"{path}: coordinator.database_url must start with 'sqlite://' or 'postgresql', "
            f"got {database_url.split(':', 1)[0]!r}"
        )
    return CoordinatorConfig(
        path=path,
        name=name.strip(),
        data_dir=data_dir,
        database_url=database_url,
        web=_web(_table(raw, "web", path), path),
        grpc=_grpc(_table(raw, "grpc", path), path),
        nodes=_nodes(raw.get("nodes", []), path),
        directory=_directory(_table(raw, "directory", path), path),
    )


def _web(table: dict[str, Any], path: Path) -> WebSettings:
    _only(table, "web", ("host", "port", "secure_cookies", "idle_minutes", "absolute_hours"), path)
    host = _string(table, "web.host", path, default="127.0.0.1")
    port = _whole(table, "web.port", path, DEFAULT_WEB_PORT, 0, 65535, "a port number")
    secure = table.get("secure_cookies", True)
    if not isinstance(secure, bool):
        raise ConfigError(f"{path}: web.secure_cookies must be true or false")
    idle = _whole(table, "web.idle_minutes", path, 30, 1, 24 * 60, "minutes")
    absolute = _whole(table, "web.absolute_hours", path, 10, 1, 24, "hours")
    return WebSettings(host, port, secure, idle, absolute)


def _grpc(table: dict[str, Any], path: Path) -> GrpcSettings:
    _only(table, "grpc", ("host", "port", "ca_dir", "enrol_port", "address"), path)
    host = _string(table, "grpc.host", path, default="127.0.0.1")
    port = _whole(table, "grpc.port", path, DEFAULT_GRPC_PORT, 0, 65535, "a port number")
    ca_dir = _relative(path, _string(table, "grpc.ca_dir", path, default="ca"))
    enrol = _whole(table, "grpc.enrol_port", path, DEFAULT_ENROL_PORT, 0, 65535, "a port number")
    address = _string(table, "grpc.address", path, default="").strip()
    if address:
        host_part, _, port_part = address.rpartition(":")
        if not host_part or not port_part.isdigit() or not 0 < int(port_part) < 65536:
            raise ConfigError(f"{path}: grpc.address must be host:port, as nodes dial it")
    return GrpcSettings(host, port, ca_dir, enrol, address)


def _directory(table: dict[str, Any], path: Path) -> DirectorySettings:
    _only(table, "directory", ("valid_seconds", "token_hours", "silent_after_seconds"), path)
    return DirectorySettings(
        valid_seconds=_whole(
            table, "directory.valid_seconds", path, 86400, 5, 90 * 86400, "seconds"
        ),
        token_hours=_whole(table, "directory.token_hours", path, 24, 1, 24 * 30, "hours"),
        silent_after_seconds=_whole(
            table, "directory.silent_after_seconds", path, 900, 5, 7 * 86400, "seconds"
        ),
    )


def _nodes(entries: Any, path: Path) -> tuple[KnownNode, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: [[nodes]] must be a list of tables")
    nodes: list[KnownNode] = []
    for index, entry in enumerate(entries):
        key = f"nodes[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {key} must be a table")
        _only(entry, key, ("borough", "verify_key", "certificate"), path)
        borough = _string(entry, f"{key}.borough", path)
        if not is_borough_code(borough):
            raise ConfigError(
                f"{path}: {key}.borough {borough!r} must be a borough code (lower-case letters, "
                "digits and hyphens, e.g. 'hackney')"
            )
        if any(node.borough == borough for node in nodes):
            raise ConfigError(f"{path}: {key}.borough {borough!r} is listed twice")
        verify_key = _string(entry, f"{key}.verify_key", path).strip().lower()
        if not _HEX_KEY.match(verify_key):
            raise ConfigError(
                f"{path}: {key}.verify_key must be the node's Ed25519 verify key as 64 hex digits"
            )
        certificate_path = _relative(path, _string(entry, f"{key}.certificate", path))
        try:
            pem = certificate_path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{path}: {key}.certificate: cannot read {certificate_path}: {exc.strerror}"
            ) from None
        try:
            named = borough_of_certificate(load_certificate(pem, str(certificate_path)))
        except CertificateError as exc:
            raise ConfigError(f"{path}: {key}.certificate: {exc.message}") from None
        if named != borough:
            raise ConfigError(
                f"{path}: {key}.certificate is {named!r}'s certificate, not {borough!r}'s"
            )
        nodes.append(KnownNode(borough, bytes.fromhex(verify_key), pem))
    return tuple(nodes)


def _table(raw: dict[str, Any], key: str, path: Path, *, required: bool = False) -> dict[str, Any]:
    value = raw.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{path}: missing section [{key}]"
            if value is None
            else f"{path}: [{key}] must be a table"
        )
    return value


def _only(table: dict[str, Any], section: str, keys: tuple[str, ...], path: Path) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError(f"{path}: {section}.{key} is not a setting ({', '.join(keys)})")


def _string(table: dict[str, Any], key: str, path: Path, default: str | None = None) -> str:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if value is None:
        raise ConfigError(f"{path}: missing setting {key}")
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    if default is None and not value.strip():
        raise ConfigError(f"{path}: {key} must not be empty")
    return value


def _whole(
    table: dict[str, Any], key: str, path: Path, default: int, low: int, high: int, what: str
) -> int:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path}: {key} must be {what}, {low}-{high}")
    return value


def _relative(config_path: Path, value: str) -> Path:
    given = Path(value)
    return given if given.is_absolute() else (config_path.parent / given).resolve()


def render_config(
    *,
    web_port: int = DEFAULT_WEB_PORT,
    grpc_port: int = DEFAULT_GRPC_PORT,
    enrol_port: int = DEFAULT_ENROL_PORT,
    secure: bool = True,
) -> str:
    """A starter configuration file, as the docs and the demo write it."""
    return (
        "# MASH coordinator configuration. Paths are relative to this file.\n"
        "[coordinator]\n"
        'name = "London MASH programme"\n'
        'data_dir = "data"\n'
        '# database_url = "postgresql+psycopg://mash@127.0.0.1:5432/mash_coordinator"\n'
        "\n[web]\n"
        'host = "127.0.0.1"\n'
        f"port = {web_port}\n"
        f"secure_cookies = {'true' if secure else 'false'}\n"
        "\n[grpc]\n"
        'host = "127.0.0.1"\n'
        f"port = {grpc_port}\n"
        'ca_dir = "ca"\n'
        f"enrol_port = {enrol_port}\n"
        '# address = "coordinator.example.org:50070"  # what enrolling nodes are told to dial\n'
        "\n[directory]\n"
        "valid_seconds = 86400\n"
        "token_hours = 24\n"
        "silent_after_seconds = 900\n"
        "\n# One table per hub node that reports to this coordinator:\n"
        "# [[nodes]]\n"
        '# borough = "hackney"\n'
        '# verify_key = "<64 hex digits>"\n'
        '# certificate = "nodes/hackney.crt"\n'
    )
