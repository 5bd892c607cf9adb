"""The node's federation, opened: its peers (the coordinator's directory once enrolled, or the
peers file), the copies of their filters, the asker and the answerer, the gRPC services, and the
upkeep that keeps the directory, the published index and peers' filters current and sends the
evaluation reports queued for the coordinator (`Upkeep`, every `federation.refresh_seconds`
while the node serves)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

import grpc

from mash_common.directory import DirectoryRefused
from mash_common.interceptors import PeerAdmitted
from mash_common.server import Service
from node.config import ConfigError
from node.disclosures.revocation import cancel_with_revoked
from node.federation import health, index, reports
from node.federation.answering import Answering
from node.federation.asking import Asker
from node.federation.courier import Courier
from node.federation.directory import (
    DirectoryPeers,
    DirectoryRollback,
    DirectoryUnavailable,
    HeldDirectory,
    fetch_directory,
    staleness,
)
from node.federation.peers import Peer, PeerBook, PeerFilters, StaticPeers, load_peers, peer_of
from node.federation.servicers import DisclosureServicer, ExistenceCheckServicer
from node.keys import load_enrolment, load_tls
from node.runtime import Node
from protos.mash.federation.v1 import (
    check_pb2,
    check_pb2_grpc,
    disclosure_pb2,
    disclosure_pb2_grpc,
)

log = logging.getLogger(__name__)
EXISTENCE_CHECK = check_pb2.DESCRIPTOR.services_by_name["ExistenceCheck"]
DISCLOSURE = disclosure_pb2.DESCRIPTOR.services_by_name["Disclosure"]
RETRY_FIRST_S = 2.0  # after a round that missed a peer, the next comes this soon, then doubles


@dataclass
class Federation:
    """One node's federation: built by `open`, closed by `close`."""

    node: Node
    book: PeerBook
    filters: PeerFilters
    asker: Asker
    answering: Answering
    courier: Courier  # delivers disclosure messages (its thread runs where the node serves)

    @classmethod
    def open(cls, node: Node) -> Federation:
        """The federation of a node with a [federation] section; its peers from the peers
        file if it names one, else from the coordinator's directory if the node has enrolled
        (else none), its TLS identity from the keys directory."""
        settings = node.config.federation
        if settings is None:
            raise ConfigError(
                f"{node.config.path}: no [federation] section: this node takes no part in "
                "existence checks"
            )
        book: PeerBook
        if settings.peers_file:
            book = StaticPeers(load_peers(settings.peers_file))
        elif load_enrolment(node.config.keys_dir) is not None:
            book = DirectoryPeers(node.config)
        else:
            book = StaticPeers(())
        filters = PeerFilters(node.config.data_dir / "peers")
        tls = load_tls(node.config.keys_dir)
        asker = Asker(node, book, filters, tls)
        courier = Courier(node, book, asker.channel)
        return cls(node, book, filters, asker, Answering(node, book), courier)

    @property
    def peers(self) -> tuple[Peer, ...]:
        """The peers in use now."""
        return self.book.current()

    @property
    def uses_directory(self) -> bool:
        return isinstance(self.book, DirectoryPeers)

    def directory_warning(self) -> str:
        """Why the directory should worry an operator (missing, old or expired), or ""."""
        if not isinstance(self.book, DirectoryPeers):
            return ""
        settings = self.node.config.federation
        stale = dt.timedelta(seconds=settings.directory_stale_seconds if settings else 3600)
        return staleness(self.book.held(), dt.datetime.now(dt.UTC), stale)

    def refresh_directory(self) -> str:
        """Fetch the directory now (a node using it); returns what happened, in words."""
        try:
            fetched = fetch_directory(self.node.config, self.asker.tls)
        except (DirectoryUnavailable, DirectoryRollback, DirectoryRefused) as exc:
            warning = self.directory_warning()
            return f"not refreshed: {exc}" + (f"; {warning}" if warning else "")
        ended = self._end_revoked(fetched.directory)
        said = f"; {ended} disclosure(s) with revoked nodes cancelled" if ended else ""
        if fetched.previous == fetched.version:
            return f"version {fetched.version}, unchanged{said}"
        return f"version {fetched.version} (was {fetched.previous or 'none'}){said}"

    def _end_revoked(self, directory: HeldDirectory) -> int:
        """Cancel the open disclosures with nodes the directory lists as revoked (all of this
        node's, if it is the one revoked)."""
        me = directory.node(self.node.config.borough_code)
        revoked = [n.borough for n in directory.nodes if n.revoked]
        with self.node.unit_of_work() as session:
            return cancel_with_revoked(
                session,
                revoked,
                everything=me is not None and me.revoked,
                reason="this node was revoked by the coordinator"
                if me is not None and me.revoked
                else "",
            )

    def peer(self, borough: str) -> Peer | None:
        return peer_of(self.book, borough)

    def interceptors(self) -> list[grpc.ServerInterceptor]:
        """What the federation server runs before any service: a node using the directory
        admits only the peers it lists, with the certificates it lists, none revoked."""
        return [PeerAdmitted(self.book.admit)] if self.uses_directory else []

    def services(self) -> list[Service]:
        return [
            Service.of(
                EXISTENCE_CHECK,
                ExistenceCheckServicer(self.node, self.answering),
                check_pb2_grpc.add_ExistenceCheckServicer_to_server,
            ),
            Service.of(
                DISCLOSURE,
                DisclosureServicer(self.node, self.book),
                disclosure_pb2_grpc.add_DisclosureServicer_to_server,
            ),
        ]

    def close(self) -> None:
        self.courier.stop()
        self.asker.close()


class Upkeep:
    """A thread that refreshes the node's index and fetches its peers' filters, at once and then
    every `federation.refresh_seconds`, until stopped. A node using the coordinator's directory
    also fetches it every `federation.directory_refresh_seconds`, and a new version (a node
    enrolled or revoked) brings the next full round forward to now."""

    def __init__(self, federation: Federation) -> None:
        self._federation = federation
        settings = federation.node.config.federation
        self._every = settings.refresh_seconds if settings else 300
        self._directory_every = settings.directory_refresh_seconds if settings else 60
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="mash-federation-upkeep", daemon=True
        )
        self.rounds = 0

    def start(self) -> Upkeep:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def refresh_directory(self) -> bool:
        """Fetch the directory (a node using it); returns whether its version changed."""
        federation = self._federation
        if not federation.uses_directory:
            return False
        held = federation.book.held()  # type: ignore[attr-defined]
        before = held.version if held is not None else None
        result = federation.refresh_directory()
        (log.warning if result.startswith("not refreshed") else log.info)("directory: %s", result)
        warning = federation.directory_warning()
        if warning:
            log.warning("directory: %s", warning)
        after = federation.book.held()  # type: ignore[attr-defined]
        return (after.version if after is not None else None) != before

    def run_once(self) -> bool:
        """One round; returns whether every peer's filter was brought up to date."""
        federation = self._federation
        self.refresh_directory()
        try:
            refreshed = index.refresh(federation.node)
            if refreshed.evaluated or refreshed.forgotten or refreshed.rebuilt:
                log.info(
                    "index epoch %d: %d keys added, %d removed%s",
                    refreshed.epoch,
                    refreshed.evaluated,
                    refreshed.forgotten,
                    ", snapshot rebuilt" if refreshed.rebuilt else "",
                )
            for epoch in index.retire_old_epochs(federation.node):
                log.info("OPRF epoch %d retired: its grace period has passed", epoch)
        except index.IndexBusy:
            pass  # another process (an import's refresh) is at it
        except Exception:  # the upkeep must outlive any one failure; it is logged
            log.exception("refreshing the index failed")
        self._deliver_reports()
        self._report_health()
        all_current = True
        for borough, result in federation.asker.refresh_filters().items():
            log.info("peer %s: %s", borough, result)
            all_current = all_current and not result.startswith("not refreshed")
        self.rounds += 1
        return all_current

    def _deliver_reports(self) -> None:
        """Send the evaluation reports queued for the coordinator, if the node has one."""
        node = self._federation.node
        if node.config.coordinator is None:
            return
        try:
            delivery = reports.deliver_queued(node)
        except Exception:  # the upkeep must outlive any one failure; it is logged
            log.exception("sending the queued evaluation reports failed")
            return
        for attempt in delivery.attempts:
            if attempt.state != reports.QUEUED:
                log.info("evaluation report %s: %s", attempt.month, attempt.state)

    def _report_health(self) -> None:
        """Send a heartbeat and the audit checkpoints signed since the last sent, if the node
        has a coordinator."""
        federation = self._federation
        node = federation.node
        if node.config.coordinator is None:
            return
        held = federation.book.held() if isinstance(federation.book, DirectoryPeers) else None
        try:
            health.send_heartbeat(node, directory_version=held.version if held else 0)
            sent = health.send_checkpoints(node)
        except grpc.RpcError as error:
            log.warning(
                "the coordinator was not told how this node is: %s",
                error.code().name,  # type: ignore[attr-defined]
            )
            return
        except Exception:  # the upkeep must outlive any one failure; it is logged
            log.exception("reporting this node's health failed")
            return
        if sent.stored:
            log.info("audit witness: %d checkpoint(s) sent to the coordinator", sent.stored)
        for why in sent.inconsistencies:
            log.warning("audit witness: the coordinator flags this node's log: %s", why)

    def _run(self) -> None:
        retry = RETRY_FIRST_S
        next_round = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_round or self.refresh_directory():
                if self.run_once():
                    retry = RETRY_FIRST_S
                    next_round = time.monotonic() + self._every
                else:  # a peer was down or starting: try again soon, then less and less often
                    next_round = time.monotonic() + min(retry, self._every)
                    retry *= 2
            wait = next_round - time.monotonic()
            if self._federation.uses_directory:
                wait = min(wait, self._directory_every)
            self._stop.wait(max(0.0, wait))
