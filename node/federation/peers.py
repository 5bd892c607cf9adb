"""The boroughs this node checks with, and the copies of their index filters it keeps.

Peers come from the coordinator's signed directory once the node has enrolled
(node/federation/directory.py), or from a TOML file (`federation.peers_file`, which wins when
set: it stays for tests and air-gapped demos): each names a borough, its name, its federation
address and its Ed25519 verify key, which the node pins: a peer's envelopes and the trailers of
the filters it sends must verify under it. Whoever reads the peers asks a `PeerBook` afresh each
time, so a directory refreshed while the node runs takes effect at once.

    [[peer]]
    borough = "lambeth"
    name = "Lambeth"
    address = "lambeth-mash.example.org:50051"
    verify_key = "5f3c...64 hex digits"   # Ed25519: its signatures
    box_key = "9a01...64 hex digits"      # X25519: what is sealed to it (disclosure requests)

A peer's filter is kept in `<data_dir>/peers/<borough>/`: the snapshot as the holder sent it
(mapped, not read into memory), the changes since as one accumulated delta, and `state.json`
(epoch, the changes covered, the epoch's OPRF public key, when it was fetched). Nothing is kept
that the holder did not sign.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from mash_common.boroughs import is_borough_code
from mash_common.files import replace_private
from node.config import ConfigError
from node.federation import index_filter

ADDRESS_HINT = "host:port, e.g. lambeth-mash.example.org:50051"


@dataclass(frozen=True)
class Peer:
    """A borough this node checks with."""

    borough: str
    name: str
    address: str
    verify_key: bytes
    box_key: bytes


class PeerBook(Protocol):
    """The peers in use now (they change when a new directory arrives)."""

    def current(self) -> tuple[Peer, ...]: ...

    def admit(self, borough: str, certificate_pem: bytes) -> None:
        """Raise mash_common.errors.Refused unless `borough` may call with this certificate."""


class StaticPeers:
    """A fixed list of peers (the peers file); any certificate of the federation CA naming a
    borough is admitted, as the envelopes' pinned keys restrict who is heard."""

    def __init__(self, peers: Iterable[Peer]) -> None:
        self._peers = tuple(peers)

    def current(self) -> tuple[Peer, ...]:
        return self._peers

    def admit(self, borough: str, certificate_pem: bytes) -> None:
        return None


def as_book(peers: Iterable[Peer] | PeerBook) -> PeerBook:
    """`peers` as a PeerBook (a fixed list becomes StaticPeers)."""
    if hasattr(peers, "current"):
        return peers  # type: ignore[return-value]
    return StaticPeers(peers)  # type: ignore[arg-type]


def peer_of(book: PeerBook, borough: str) -> Peer | None:
    return next((peer for peer in book.current() if peer.borough == borough), None)


def load_peers(path: Path) -> tuple[Peer, ...]:
    """Read the peers file; every problem is a ConfigError naming the file, peer and field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: peers file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    entries = raw.get("peer", [])
    if not isinstance(entries, list) or set(raw) - {"peer"}:
        raise ConfigError(f"{path}: a peers file holds [[peer]] tables only")
    peers: list[Peer] = []
    for index, entry in enumerate(entries):
        where = f"{path}: peer[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = set(entry) - {"borough", "name", "address", "verify_key", "box_key"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]} is not a setting")
        borough = _text(entry, "borough", where)
        if not is_borough_code(borough):
            raise ConfigError(f"{where}.borough {borough!r} is not a borough code")
        address = _text(entry, "address", where)
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{where}.address {address!r} must be {ADDRESS_HINT}")
        verify_key = _key(entry, "verify_key", where, "Ed25519")
        box_key = _key(entry, "box_key", where, "X25519")
        peers.append(Peer(borough, _text(entry, "name", where), address, verify_key, box_key))
    if len({p.borough for p in peers}) != len(peers):
        raise ConfigError(f"{path}: a borough is listed twice")
    return tuple(peers)


def render_peers(peers: list[Peer]) -> str:
    """A peers file listing `peers` (the demo and the tests write theirs with this)."""
    blocks = [
        f'[[peer]]\nborough = "{p.borough}"\nname = "{p.name}"\naddress = "{p.address}"\n'
        f'verify_key = "{p.verify_key.hex()}"\nbox_key = "{p.box_key.hex()}"\n'
        for p in peers
    ]
    return "\n".join(blocks)


def _key(entry: dict[str, object], name: str, where: str, kind: str) -> bytes:
    try:
        key = bytes.fromhex(_text(entry, name, where))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{where}.{name} must be the peer's {kind} public key as 64 hex digits")
    return key


def _text(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} must be given, as text")
    return value.strip()


# --- the copies of peers' filters ----------------------------------------------------------------


@dataclass(frozen=True)
class FilterState:
    """Which of a peer's filters this node holds: its epoch, the changes it covers, the epoch's
    OPRF public key (from the signed trailer), and when it was last brought up to date."""

    epoch: int
    snapshot_sequence: int
    sequence: int
    oprf_public_key: bytes
    snapshot_file: str
    fetched_at: dt.datetime

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.fetched_at


class PeerFilters:
    """The filters of every peer kept in `<data_dir>/peers/`, mapped once and shared by the
    threads that check (a refresh swaps a peer's filter in one step)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[FilterState, index_filter.OverlaidFilter]] = {}

    def state(self, borough: str) -> FilterState | None:
        path = self._directory / borough / "state.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return FilterState(
                epoch=int(raw["epoch"]),
                snapshot_sequence=int(raw["snapshot_sequence"]),
                sequence=int(raw["sequence"]),
                oprf_public_key=bytes.fromhex(raw["oprf_public_key"]),
                snapshot_file=str(raw["snapshot_file"]),
                fetched_at=dt.datetime.fromisoformat(raw["fetched_at"]),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # a state file this node did not write: fetch the snapshot again

    def filter(self, borough: str) -> tuple[FilterState, index_filter.OverlaidFilter] | None:
        """The peer's filter (snapshot and delta) and its state, or None if none is held."""
        state = self.state(borough)
        if state is None:
            return None
        with self._lock:
            loaded = self._loaded.get(borough)
            if loaded is not None and loaded[0] == state:
                return loaded
        folder = self._directory / borough
        try:
            snapshot = index_filter.load(folder / state.snapshot_file)
            delta_path = folder / "delta.bin"
            delta = (
                index_filter.FilterDelta.from_bytes(delta_path.read_bytes(), source=str(delta_path))
                if delta_path.exists()
                else None
            )
        except (OSError, index_filter.FilterError):
            return None
        loaded = (state, index_filter.OverlaidFilter(snapshot, delta))
        with self._lock:
            self._loaded[borough] = loaded
        return loaded

    def save_snapshot(
        self, borough: str, data: bytes, epoch: int, sequence: int, oprf_public_key: bytes
    ) -> None:
        """Keep a verified snapshot (its delta starts again from it)."""
        folder = self._folder(borough)
        name = f"snapshot-e{epoch}-s{sequence}.bin"
        index_filter.from_bytes(data, source=f"{borough}'s snapshot")  # whole and well formed
        replace_private(folder / name, data)
        (folder / "delta.bin").unlink(missing_ok=True)
        previous = self.state(borough)
        self._write_state(
            borough,
            FilterState(epoch, sequence, sequence, oprf_public_key, name, _now()),
        )
        if previous and previous.snapshot_file != name:
            (folder / previous.snapshot_file).unlink(missing_ok=True)

    def save_delta(self, borough: str, delta: index_filter.FilterDelta, sequence: int) -> None:
        """Keep a verified delta, applied after the one held."""
        state = self.state(borough)
        if state is None:
            raise LookupError(f"no snapshot of {borough}'s filter to apply a delta to")
        folder = self._folder(borough)
        delta_path = folder / "delta.bin"
        if delta_path.exists():
            held = index_filter.FilterDelta.from_bytes(delta_path.read_bytes())
            delta = held.then(delta)
        replace_private(delta_path, delta.to_bytes())
        self._write_state(
            borough,
            FilterState(
                state.epoch,
                state.snapshot_sequence,
                sequence,
                state.oprf_public_key,
                state.snapshot_file,
                _now(),
            ),
        )

    def touch(self, borough: str) -> None:
        """The peer had nothing new: the copy is up to date as of now."""
        state = self.state(borough)
        if state is not None:
            self._write_state(borough, FilterState(**{**asdict(state), "fetched_at": _now()}))

    def _folder(self, borough: str) -> Path:
        folder = self._directory / borough
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def _write_state(self, borough: str, state: FilterState) -> None:
        raw = {
            "epoch": state.epoch,
            "snapshot_sequence": state.snapshot_sequence,
            "sequence": state.sequence,
            "oprf_public_key": state.oprf_public_key.hex(),
            "snapshot_file": state.snapshot_file,
            "fetched_at": state.fetched_at.isoformat(),
        }
        replace_private(self._folder(borough) / "state.json", json.dumps(raw).encode("utf-8"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
