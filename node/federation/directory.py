"""The coordinator's signed directory, as this node holds and uses it.

`fetch_directory` asks the coordinator (mutual TLS) for the directory, verifies it against the
key pinned at enrolment (mash_common/directory.py), refuses one older than the one held (a
replayed directory cannot bring a revoked node back), and keeps it as signed in
`<data_dir>/directory.bin`. `DirectoryPeers` is the PeerBook the node uses instead of the peers
file: the held directory's nodes that are not revoked and not this one, read again whenever the
file changes (the serving process fetches it; the web workers and the CLI read it), and none
once the directory has expired. A peer that calls must present the very certificate the
directory lists for it; a revoked node, or one presenting another certificate, is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mash_common.client import coordinator_channel
from mash_common.directory import DirectoryRefused, open_directory
from mash_common.errors import Refusal, Refused
from mash_common.files import replace_private
from mash_common.tls import TlsIdentity
from node.config import NodeConfig
from node.errors import DomainError, ErrorCode
from node.federation.peers import Peer
from node.keys import Enrolment, load_enrolment
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc

DIRECTORY_FILE = "directory.bin"


class DirectoryUnavailable(DomainError):
    """The directory cannot be fetched or used now (no enrolment, coordinator unreachable)."""

    code = ErrorCode.UNAVAILABLE


class DirectoryRollback(DomainError):
    """The coordinator sent a directory older than the one held."""

    code = ErrorCode.CONFLICT


@dataclass(frozen=True)
class DirectoryNode:
    borough: str
    name: str
    endpoint: str
    verify_key: bytes
    box_key: bytes
    oprf_public_key: bytes
    oprf_epoch: int
    certificate_sha256: bytes
    revoked: bool
    revoked_reason: str
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class HeldDirectory:
    version: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    fetched_at: dt.datetime
    nodes: tuple[DirectoryNode, ...]

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.issued_at

    def node(self, borough: str) -> DirectoryNode | None:
        return next((n for n in self.nodes if n.borough == borough), None)


def _moment(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _held(body: directory_pb2.DirectoryBody, fetched_at: dt.datetime) -> HeldDirectory:
    return HeldDirectory(
        version=body.version,
        issued_at=_moment(body.issued_at_ms),
        expires_at=_moment(body.expires_at_ms),
        fetched_at=fetched_at,
        nodes=tuple(
            DirectoryNode(
                e.borough,
                e.name,
                e.endpoint,
                bytes(e.verify_key),
                bytes(e.box_key),
                bytes(e.oprf_public_key),
                e.oprf_epoch,
                bytes(e.certificate_sha256),
                e.revoked,
                e.revoked_reason,
                _moment(e.revoked_at_ms) if e.revoked_at_ms else None,
            )
            for e in body.nodes
        ),
    )


def directory_path(config: NodeConfig) -> Path:
    return config.data_dir / DIRECTORY_FILE


def held_directory(config: NodeConfig) -> HeldDirectory | None:
    """The directory this node holds, verified again against the pinned key (a file altered on
    disk is refused: DirectoryRefused); None if the node has none or never enrolled."""
    enrolment = load_enrolment(config.keys_dir)
    path = directory_path(config)
    if enrolment is None or not path.exists():
        return None
    data = path.read_bytes()
    signed = directory_pb2.SignedDirectory.FromString(data)
    body = open_directory(signed, enrolment.directory_key)
    return _held(body, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))


@dataclass(frozen=True)
class Fetched:
    version: int
    previous: int | None
    directory: HeldDirectory


def fetch_directory(
    config: NodeConfig, tls: TlsIdentity, *, timeout: float | None = None
) -> Fetched:
    """Fetch, verify and keep the coordinator's directory; raises DirectoryUnavailable (not
    reached), DirectoryRefused (bad signature) or DirectoryRollback (older than the held one),
    keeping the held directory in each case."""
    enrolment = _enrolment(config)
    settings = config.coordinator
    address = settings.address if settings is not None else enrolment.coordinator_address
    deadline = timeout or (settings.timeout_seconds if settings is not None else 10.0)
    channel = coordinator_channel(address, tls, default_timeout=deadline)
    try:
        signed = directory_pb2_grpc.DirectoryStub(channel).GetDirectory(
            directory_pb2.GetDirectoryRequest()
        )
    except grpc.RpcError as error:
        raise DirectoryUnavailable(
            f"the directory could not be fetched from {address}: "
            f"{error.code().name}: {error.details()}"  # type: ignore[attr-defined]
        ) from None
    finally:
        channel.close()
    body = open_directory(signed, enrolment.directory_key)
    try:
        held = held_directory(config)
    except (DirectoryRefused, ValueError):
        held = None  # a damaged copy on disk is replaced by a good one
    if held is not None and (
        body.version < held.version or _moment(body.issued_at_ms) < held.issued_at
    ):
        raise DirectoryRollback(
            f"the coordinator sent directory version {body.version}, older than the version "
            f"{held.version} held; the held one is kept"
        )
    replace_private(directory_path(config), signed.SerializeToString())
    now = dt.datetime.now(dt.UTC)
    return Fetched(body.version, held.version if held else None, _held(body, now))


def _enrolment(config: NodeConfig) -> Enrolment:
    enrolment = load_enrolment(config.keys_dir)
    if enrolment is None:
        raise DirectoryUnavailable(
            "this node has not enrolled with the coordinator (`mash-node enrol`), so it has no "
            "directory key to check a directory with"
        )
    return enrolment


def staleness(held: HeldDirectory | None, now: dt.datetime, stale_after: dt.timedelta) -> str:
    """A warning in words if the directory is missing, expired or older than `stale_after`;
    "" if it is fresh."""
    if held is None:
        return "no directory held yet: no peers until the coordinator is reached"
    if held.expired(now):
        return (
            f"the directory (version {held.version}) expired at {held.expires_at:%Y-%m-%d %H:%M} "
            "UTC: no peers are checked until a new one is fetched"
        )
    if held.age(now) > stale_after:
        hours = held.age(now).total_seconds() / 3600
        return (
            f"the directory (version {held.version}) is {hours:.1f} hours old: the coordinator "
            f"has not been reached since; it expires at {held.expires_at:%Y-%m-%d %H:%M} UTC"
        )
    return ""


class DirectoryPeers:
    """The PeerBook of a node that uses the directory (see the module's docstring)."""

    def __init__(self, config: NodeConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._held: HeldDirectory | None = None

    def held(self) -> HeldDirectory | None:
        """The held directory, read again if its file changed (a bad one is not used)."""
        path = directory_path(self._config)
        try:
            stat = path.stat()
            seen = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen:
                try:
                    self._held = held_directory(self._config) if seen else None
                except (DirectoryRefused, ValueError, OSError):
                    self._held = None
                self._seen = seen
            return self._held

    def current(self) -> tuple[Peer, ...]:
        held = self.held()
        if held is None or held.expired(dt.datetime.now(dt.UTC)):
            return ()
        me = self._config.borough_code
        return tuple(
            Peer(n.borough, n.name, n.endpoint, n.verify_key, n.box_key)
            for n in held.nodes
            if not n.revoked and n.borough != me
        )

    def admit(self, borough: str, certificate_pem: bytes) -> None:
        if borough == self._config.borough_code:
            return  # this node's own certificate (its health checks)
        held = self.held()
        if held is None or held.expired(dt.datetime.now(dt.UTC)):
            raise Refused(
                Refusal.NOT_IN_DIRECTORY,
                "this node holds no current federation directory, so it answers no peer",
            )
        listed = held.node(borough)
        if listed is None:
            raise Refused(
                Refusal.NOT_IN_DIRECTORY, f"{borough!r} is not in the federation directory"
            )
        if listed.revoked:
            raise Refused(Refusal.REVOKED, f"{borough!r}'s node is revoked in the directory")
        if certificate_sha256(certificate_pem) != listed.certificate_sha256:
            raise Refused(
                Refusal.REVOKED,
                f"the certificate presented is not the one the directory lists for {borough!r}",
            )


def certificate_sha256(pem: bytes) -> bytes:
    try:
        der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    except ValueError:
        return b""
    return hashlib.sha256(der).digest()


@dataclass(frozen=True)
class DirectoryStatus:
    """What an operator should see of the directory: the one held, and a warning or ""."""

    held: HeldDirectory | None
    warning: str


def directory_status(config: NodeConfig) -> DirectoryStatus | None:
    """The directory's status for a node that uses it (enrolled, no peers file); else None."""
    settings = config.federation
    if settings is None or settings.peers_file or load_enrolment(config.keys_dir) is None:
        return None
    try:
        held = held_directory(config)
    except (DirectoryRefused, ValueError):
        return DirectoryStatus(None, "the directory held does not verify: it is not used")
    stale = dt.timedelta(seconds=settings.directory_stale_seconds)
    return DirectoryStatus(held, staleness(held, dt.datetime.now(dt.UTC), stale))
