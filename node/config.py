"""The node's configuration: one TOML file, validated into a frozen value with errors that name the key."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mash_common.boroughs import is_borough_code
from node.agencies import STANDARD_AGENCIES, AgencyDefinition
from node.cumulative_harm.rules import DEFAULT_RULES, RuleError, RuleSet, parse_rules
from node.errors import DomainError

_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class ConfigError(DomainError):
    """The configuration file is missing, unreadable or has an invalid setting."""


@dataclass(frozen=True)
class ReferralPolicy:
    """How long the hub has to decide a referral of each RAG rating, and when it works.

    Red runs around the clock; amber and green count only the hub's working hours, on working
    days that are not English bank holidays.
    """

    reference_prefix: str
    hours: dict[str, float]  # rag -> hours until the decision is due
    working_days: tuple[int, ...]  # Monday = 0
    day_starts: dt.time
    day_ends: dt.time
    timezone: str
    near_breach_minutes: int
    # Which agencies research a referral of each rating unless the manager chooses at triage
    # (least exposure): rag -> agency codes, or None for every agency of the hub.
    research_by_rag: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    # The cumulative-harm rules ([referrals.cumulative_harm]), evaluated on intake, on import and
    # nightly.
    harm_rules: RuleSet = DEFAULT_RULES

    def default_researchers(self, rag: str, hub_agencies: Iterable[str]) -> list[str]:
        """The agencies that research a referral rated `rag` unless the manager chooses."""
        chosen = self.research_by_rag.get(rag)
        hub = list(hub_agencies)
        return hub if chosen is None else [code for code in hub if code in chosen]


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    secure_cookies: bool  # False only for a demo on http://127.0.0.1
    idle_minutes: int
    absolute_hours: int
    workers: int = 1  # server processes sharing the socket: about one per core


@dataclass(frozen=True)
class FederationSettings:
    """The node in the federation: where its gRPC server listens (mutual TLS; its files in the
    keys dir), who its peers are, and how it answers and asks existence checks."""

    host: str
    port: int
    peers_file: Path | None = None  # the static peers file (until the coordinator's directory)
    evaluations_per_peer_per_day: int = 20_000  # each evaluation is one guess at a person
    check_deadline_ms: int = 2_000  # how long a check waits for the slowest peer
    refresh_seconds: int = 300  # how often the index is refreshed and peers' filters fetched
    epoch_grace_hours: int = 72  # an old OPRF epoch is still answered this long after a rotation
    disclosures_per_peer_per_day: int = 50  # disclosure requests a peer may make a day
    # Hours a holding hub has to answer a disclosure request of each urgency: red around the
    # clock, amber and green in the hub's working hours (as its referrals' clocks run).
    disclosure_red_hours: int = 4
    disclosure_amber_hours: int = 24
    disclosure_green_hours: int = 72
    hub_contact: str = ""  # how another borough's hub reaches this MASH (its requests carry it)
    # A directory from the coordinator older than this is shown as a warning (it is still used
    # until it expires, as the coordinator signed it).
    directory_stale_seconds: int = 3600
    directory_refresh_seconds: int = 60  # how often the directory is fetched from the coordinator

    def disclosure_hours(self) -> dict[str, float]:
        return {
            "red": float(self.disclosure_red_hours),
            "amber": float(self.disclosure_amber_hours),
            "green": float(self.disclosure_green_hours),
        }


@dataclass(frozen=True)
class CoordinatorSettings:
    """Where the coordinator's gRPC server is, for the monthly evaluation reports (mutual TLS
    with the node's keys-dir files; the coordinator's certificate must carry its reserved name)."""

    address: str  # host:port
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    borough_code: str
    borough_name: str
    data_dir: Path
    database_url: str
    agencies: tuple[AgencyDefinition, ...]
    audit_checkpoint_every: int
    referrals: ReferralPolicy
    web: WebSettings
    federation: FederationSettings | None = None  # None: no [federation] section
    coordinator: CoordinatorSettings | None = None  # None: no [coordinator] section

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
    if not is_borough_code(borough_code):
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
    referrals = _referrals(raw.get("referrals", {}), borough_code, {a.code for a in agencies}, path)
    web = _web(raw.get("web", {}), path)
    federation = _federation(raw["federation"], path) if "federation" in raw else None
    coordinator = _coordinator(raw["coordinator"], path) if "coordinator" in raw else None
    unknown = set(raw) - {"node", "hub", "referrals", "web", "federation", "coordinator"}
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
        referrals=referrals,
        web=web,
        federation=federation,
        coordinator=coordinator,
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# Least exposure by default: red and amber referrals are researched by every agency; a green one
# by the core four (of those the hub has), unless the manager chooses otherwise at triage.
DEFAULT_RESEARCH_BY_RAG: dict[str, tuple[str, ...] | None] = {
    "red": None,
    "amber": None,
    "green": ("police", "childrens-social-care", "health", "education"),
}


def _referrals(table: Any, borough_code: str, agencies: set[str], path: Path) -> ReferralPolicy:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [referrals] must be a table")
    prefix = table.get("reference_prefix", borough_code[:3].upper())
    if not isinstance(prefix, str) or not re.match(r"^[A-Z]{2,6}$", prefix):
        raise ConfigError(f"{path}: referrals.reference_prefix must be 2-6 capital letters")
    hours = {}
    for rag, default in (("red", 4), ("amber", 24), ("green", 72)):
        value = table.get(f"{rag}_hours", default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= 24 * 30
        ):
            raise ConfigError(f"{path}: referrals.{rag}_hours must be a number of hours, 0-720")
        hours[rag] = float(value)
    days = table.get("working_days", list(_DAYS[:5]))
    if not isinstance(days, list) or not days or any(d not in _DAYS for d in days):
        raise ConfigError(f"{path}: referrals.working_days must list days as {', '.join(_DAYS)}")
    span = table.get("working_hours", "09:00-17:00")
    match = re.match(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$", span) if isinstance(span, str) else None
    try:
        assert match is not None
        starts = dt.time(int(match[1]), int(match[2]))
        ends = dt.time(int(match[3]), int(match[4]))
        assert starts < ends
    except (AssertionError, ValueError):
        raise ConfigError(f'{path}: referrals.working_hours must be like "09:00-17:00"') from None
    zone = table.get("timezone", "Europe/London")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"{path}: referrals.timezone {zone!r} is not a known time zone") from None
    near = table.get("near_breach_minutes", 60)
    if isinstance(near, bool) or not isinstance(near, int) or not 0 < near <= 24 * 60:
        raise ConfigError(f"{path}: referrals.near_breach_minutes must be 1-1440")
    research = _research_by_rag(table.get("research_agencies", {}), agencies, path)
    try:
        harm_rules = (
            parse_rules(table["cumulative_harm"], path)
            if "cumulative_harm" in table
            else DEFAULT_RULES
        )
    except RuleError as exc:
        raise ConfigError(exc.message) from None
    return ReferralPolicy(
        reference_prefix=prefix,
        hours=hours,
        working_days=tuple(sorted(_DAYS.index(d) for d in set(days))),
        day_starts=starts,
        day_ends=ends,
        timezone=zone,
        near_breach_minutes=near,
        research_by_rag=research,
        harm_rules=harm_rules,
    )


def _research_by_rag(
    table: Any, agencies: set[str], path: Path
) -> dict[str, tuple[str, ...] | None]:
    if not isinstance(table, dict):
        raise ConfigError(
            f"{path}: [referrals.research_agencies] must be a table of rating = agencies"
        )
    unknown = set(table) - set(DEFAULT_RESEARCH_BY_RAG)
    if unknown:
        raise ConfigError(
            f"{path}: referrals.research_agencies.{sorted(unknown)[0]}: the ratings are red, "
            "amber and green"
        )
    research = dict(DEFAULT_RESEARCH_BY_RAG)
    for rag, value in table.items():
        key = f"referrals.research_agencies.{rag}"
        if value == "all":
            research[rag] = None
            continue
        if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
            raise ConfigError(f'{path}: {key} must be "all" or a non-empty list of agency codes')
        strangers = [code for code in value if code not in agencies]
        if strangers:
            raise ConfigError(f"{path}: {key} names {strangers[0]!r}, which is not in hub.agencies")
        research[rag] = tuple(value)
    return research


def _web(table: Any, path: Path) -> WebSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [web] must be a table")
    host = table.get("host", "127.0.0.1")
    port = table.get("port", 8080)
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{path}: web.host must be an address such as 127.0.0.1")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"{path}: web.port must be a port number 0-65535")
    secure = table.get("secure_cookies", True)
    if not isinstance(secure, bool):
        raise ConfigError(f"{path}: web.secure_cookies must be true or false")
    idle = table.get("idle_minutes", 30)
    absolute = table.get("absolute_hours", 10)
    if isinstance(idle, bool) or not isinstance(idle, int) or not 1 <= idle <= 24 * 60:
        raise ConfigError(f"{path}: web.idle_minutes must be 1-1440")
    if isinstance(absolute, bool) or not isinstance(absolute, int) or not 1 <= absolute <= 24:
        raise ConfigError(f"{path}: web.absolute_hours must be 1-24")
    workers = table.get("workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise ConfigError(f"{path}: web.workers must be 1-64 (about one per core)")
    return WebSettings(host, port, secure, idle, absolute, workers)


_FEDERATION_KEYS = (
    "host",
    "port",
    "peers_file",
    "evaluations_per_peer_per_day",
    "check_deadline_ms",
    "refresh_seconds",
    "epoch_grace_hours",
    "disclosures_per_peer_per_day",
    "disclosure_red_hours",
    "disclosure_amber_hours",
    "disclosure_green_hours",
    "hub_contact",
    "directory_stale_seconds",
    "directory_refresh_seconds",
)


def _federation(table: Any, path: Path) -> FederationSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [federation] must be a table")
    for key in table:
        if key not in _FEDERATION_KEYS:
            raise ConfigError(
                f"{path}: federation.{key} is not a setting ({', '.join(_FEDERATION_KEYS)})"
            )
    host = table.get("host", "127.0.0.1")
    port = table.get("port", 50051)
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f"{path}: federation.host must be an address such as 0.0.0.0")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"{path}: federation.port must be a port number 0-65535")
    peers = table.get("peers_file")
    if peers is not None and (not isinstance(peers, str) or not peers.strip()):
        raise ConfigError(f"{path}: federation.peers_file must be a file name, e.g. peers.toml")
    peers_file = (path.parent / peers).resolve() if peers else None
    limits = {}
    for key, low, high in (
        ("evaluations_per_peer_per_day", 1, 10_000_000),
        ("check_deadline_ms", 100, 60_000),
        ("refresh_seconds", 1, 86_400),
        ("epoch_grace_hours", 1, 24 * 90),
        ("disclosures_per_peer_per_day", 1, 100_000),
        ("disclosure_red_hours", 1, 24 * 30),
        ("disclosure_amber_hours", 1, 24 * 30),
        ("disclosure_green_hours", 1, 24 * 30),
        ("directory_stale_seconds", 1, 30 * 86_400),
        ("directory_refresh_seconds", 1, 86_400),
    ):
        value = table.get(key, getattr(FederationSettings, key))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{path}: federation.{key} must be a whole number {low}-{high}")
        limits[key] = value
    contact = table.get("hub_contact", "")
    if not isinstance(contact, str) or len(contact) > 300:
        raise ConfigError(
            f"{path}: federation.hub_contact must be text of at most 300 characters, e.g. "
            '"Lambeth MASH, 020 7926 5555, mash@lambeth.gov.uk"'
        )
    return FederationSettings(host, port, peers_file, **limits, hub_contact=contact.strip())


_COORDINATOR_KEYS = ("address", "timeout_seconds")


def _coordinator(table: Any, path: Path) -> CoordinatorSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [coordinator] must be a table")
    for key in table:
        if key not in _COORDINATOR_KEYS:
            raise ConfigError(
                f"{path}: coordinator.{key} is not a setting ({', '.join(_COORDINATOR_KEYS)})"
            )
    address = table.get("address")
    host, _, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ConfigError(
            f"{path}: coordinator.address must be the coordinator's gRPC host:port, "
            'e.g. "coordinator.example.org:50070"'
        )
    timeout = table.get("timeout_seconds", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        raise ConfigError(f"{path}: coordinator.timeout_seconds must be 1-300 seconds")
    return CoordinatorSettings(address=address, timeout_seconds=float(timeout))


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
