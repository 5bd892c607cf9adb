"""This node's published index (DESIGN section 6, step 1): the PRF of every match key it holds
under its OPRF key, the index filter built from them, and the signed snapshots and deltas peers
fetch.

`refresh` brings the index up to the store's match keys: it evaluates the keys not yet in it
(RFC 9497 `Evaluate`, on every core for a large batch), forgets those no longer held, and records
each change after the epoch's snapshot, so peers can follow by deltas; once the changes are more
than a twentieth of the snapshot it builds a new snapshot. Imports, key re-derivation and
deletions therefore reach the index at the next refresh: after every `mash-node import` and
`init`, and every `federation.refresh_seconds` while the node serves. The PRFs never leave the
node except inside the filter; the match keys themselves never leave it at all.

What a peer is sent is signed (`trailer_message`): the borough, whether it is a snapshot or a
delta, the epoch, the changes it covers, its size and SHA-256, and the epoch's OPRF public key,
so the asker verifies each answer against the key behind the filter it looks the answer up in.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import multiprocessing
import os
import sys
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from node.federation import index_filter, voprf
from node.keys import retire_oprf
from node.runtime import Node
from node.store.bulk import write_packed
from node.store.models import (
    MatchKey,
    OprfIndexChange,
    OprfIndexEntry,
    OprfSnapshot,
    utcnow,
)

TRAILER_CONTEXT = b"mash-index-filter/v1\n"
SNAPSHOT, DELTA = "snapshot", "delta"
BATCH = 20_000  # keys written a transaction (the write lock is held for one batch at a time)
POOL_FROM = 20_000  # keys to evaluate before it pays to start worker processes
REBUILD_FRACTION = 0.05  # changes, as a share of the snapshot, that make a new snapshot worth it
PRF_BYTES = 8  # what the index keeps of a PRF output: the filter's value hash
KEY_BYTES = 16  # a match key's value (node.matching)
CHUNK = 2_048  # keys a worker evaluates at a time

Progress = Callable[[int], None]


class IndexBusy(RuntimeError):
    """Another process is refreshing this node's index right now."""


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did: keys evaluated and forgotten, and the snapshot now published."""

    epoch: int
    evaluated: int
    forgotten: int
    snapshot: Published | None
    rebuilt: bool


@dataclass(frozen=True)
class Published:
    """An epoch's published snapshot: its file, the last change it includes, keys and digest."""

    epoch: int
    sequence: int
    size: int
    digest: bytes
    path: Path


def index_dir(node: Node) -> Path:
    return node.config.data_dir / "index"


def refresh(
    node: Node, *, progress: Progress | None = None, workers: int | None = None
) -> Refreshed:
    """Bring the current epoch's index up to the store's match keys, and publish a snapshot when
    there is none or the changes since it have grown; one refresh at a time per node."""
    epoch = node.keys.oprf_epoch
    directory = index_dir(node)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _refreshing(directory):
        published = current_snapshot(node, epoch)
        record_changes = published is not None
        # An epoch's first build: every PRF its index will hold is one this refresh writes, so
        # nothing can be gone and the snapshot is built from them as they were kept.
        first_build: list[bytes] | None = (
            [] if published is None and not _holds_any(node, epoch) else None
        )
        evaluated = _evaluate_missing(node, epoch, record_changes, progress, workers, first_build)
        forgotten = 0 if first_build is not None else _forget_gone(node, epoch, record_changes)
        rebuilt = False
        if published is None or _changes_since(node, epoch, published.sequence) > max(
            1_000, REBUILD_FRACTION * published.size
        ):
            prfs = b"".join(first_build) if first_build is not None else None
            published = _build_snapshot(node, epoch, directory, prfs)
            rebuilt = True
    return Refreshed(epoch, evaluated, forgotten, published, rebuilt)


def current_snapshot(node: Node, epoch: int) -> Published | None:
    with node.reading() as session:
        row = session.get(OprfSnapshot, epoch)
        if row is None:
            return None
        return Published(
            row.epoch,
            row.sequence,
            row.size,
            bytes(row.digest),
            index_dir(node) / row.file_name,
        )


def published_epoch(node: Node) -> int | None:
    """The newest epoch with a published snapshot (after a rotation, the new epoch once its
    index is built; until then the old one): what a peer fetching "the latest" is sent."""
    with node.reading() as session:
        epochs = [
            epoch
            for epoch in session.scalars(select(OprfSnapshot.epoch))
            if node.keys.oprf_key(epoch) is not None
        ]
    return max(epochs, default=None)


def honoured(node: Node, epoch: int) -> bool:
    """Whether checks of `epoch` are answered: the current epoch, or an older one whose key is
    still kept and whose successor was published less than `epoch_grace_hours` ago (or not yet)."""
    if node.keys.oprf_key(epoch) is None:
        return False
    if epoch == node.keys.oprf_epoch:
        return True
    with node.reading() as session:
        successor = session.scalar(
            select(func.min(OprfSnapshot.built_at)).where(OprfSnapshot.epoch > epoch)
        )
    return successor is None or utcnow() - successor < _grace(node)


def retire_old_epochs(node: Node) -> list[int]:
    """Forget the epochs whose grace has passed: their index, changes, snapshot and key."""
    retired = []
    for epoch in sorted(node.keys.oprf_epochs):
        if epoch == node.keys.oprf_epoch or honoured(node, epoch):
            continue
        published = current_snapshot(node, epoch)
        with node.unit_of_work() as session:
            session.execute(delete(OprfIndexEntry).where(OprfIndexEntry.epoch == epoch))
            session.execute(delete(OprfIndexChange).where(OprfIndexChange.epoch == epoch))
            session.execute(delete(OprfSnapshot).where(OprfSnapshot.epoch == epoch))
        if published is not None:
            published.path.unlink(missing_ok=True)
        retire_oprf(node.config.keys_dir, epoch)
        retired.append(epoch)
    return retired


def _grace(node: Node) -> dt.timedelta:
    settings = node.config.federation
    return dt.timedelta(hours=settings.epoch_grace_hours if settings else 72)


def latest_sequence(node: Node, epoch: int) -> int:
    """The last change recorded for the epoch (a snapshot's sequence if there is none since)."""
    with node.reading() as session:
        last = session.scalar(
            select(func.max(OprfIndexChange.id)).where(OprfIndexChange.epoch == epoch)
        )
        snapshot = session.get(OprfSnapshot, epoch)
    return max(last or 0, snapshot.sequence if snapshot else 0)


def delta_since(node: Node, epoch: int, since: int) -> tuple[index_filter.FilterDelta, int]:
    """The changes of `epoch` after change `since`, as one delta, and the last change in it.
    Raises LookupError if `since` is before the epoch's snapshot (the asker needs the snapshot)."""
    with node.reading() as session:
        snapshot = session.get(OprfSnapshot, epoch)
        if snapshot is None or since < snapshot.sequence:
            raise LookupError(
                f"changes before {snapshot.sequence if snapshot else 0} are only in the snapshot"
            )
        rows = session.execute(
            select(OprfIndexChange.id, OprfIndexChange.prf, OprfIndexChange.added)
            .where(OprfIndexChange.epoch == epoch, OprfIndexChange.id > since)
            .order_by(OprfIndexChange.id)
        ).all()
    last_state: dict[bytes, bool] = {}
    for _id, prf, added in rows:
        last_state[bytes(prf)] = added  # the last change of a value is the one that stands
    added_hashes = _hashes(prf for prf, added in last_state.items() if added)
    removed_hashes = _hashes(prf for prf, added in last_state.items() if not added)
    last = rows[-1][0] if rows else since
    return index_filter.FilterDelta(added_hashes, removed_hashes), last


def trailer_message(
    borough: str,
    kind: str,
    epoch: int,
    since: int,
    sequence: int,
    size: int,
    digest: bytes,
    oprf_public_key: bytes,
) -> bytes:
    """What the holder signs about a snapshot or delta it sends (fixed-width after the names)."""
    if kind not in (SNAPSHOT, DELTA):
        raise ValueError(f"a filter is sent as a snapshot or a delta, not {kind!r}")
    if len(digest) != 32 or len(oprf_public_key) != voprf.ELEMENT_SIZE:
        raise ValueError("a filter trailer names a 32-byte digest and a 32-byte public key")
    return (
        TRAILER_CONTEXT
        + borough.encode("ascii")
        + b"\x00"
        + kind.encode("ascii")
        + b"\x00"
        + epoch.to_bytes(4, "big")
        + since.to_bytes(8, "big")
        + sequence.to_bytes(8, "big")
        + size.to_bytes(8, "big")
        + digest
        + oprf_public_key
    )


# --- refreshing ---------------------------------------------------------------------------------


@contextmanager
def _refreshing(directory: Path) -> Iterator[None]:
    handle = os.open(directory / ".refresh.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy("the index is being refreshed by another process") from None
        yield
    finally:
        os.close(handle)


def _missing_keys(session: Session, epoch: int) -> Iterator[list[bytes]]:
    """The store's distinct match-key values that the epoch's index does not hold, in order, in
    blocks of BATCH (read on the session's connection: rows of one column need none of the ORM's
    loading, which cost the refreshing process more than the rest of its work)."""
    statement = (
        select(MatchKey.key_value)
        .where(~_held(epoch).exists())
        .distinct()
        .order_by(MatchKey.key_value)
        .execution_options(yield_per=BATCH)
    )
    values = session.connection().execute(statement).scalars()
    # Row by row into blocks: SQLAlchemy's partitions() costs twice as much a row.
    while block := [bytes(value) for value in islice(values, BATCH)]:
        yield block


def _held(epoch: int):  # type: ignore[no-untyped-def]
    return select(OprfIndexEntry.key_value).where(
        OprfIndexEntry.epoch == epoch, OprfIndexEntry.key_value == MatchKey.key_value
    )


def _holds_any(node: Node, epoch: int) -> bool:
    with node.reading() as session:
        held = select(OprfIndexEntry.key_value).where(OprfIndexEntry.epoch == epoch).limit(1)
        return session.scalar(held) is not None


def _evaluate_missing(
    node: Node,
    epoch: int,
    record_changes: bool,
    progress: Progress | None,
    workers: int | None,
    kept: list[bytes] | None,
) -> int:
    """Evaluate the keys the index lacks and write them with their PRFs, a batch a transaction;
    `kept`, if given, receives every batch's PRFs joined."""
    fed: deque[list[bytes]] = deque()  # the chunks handed to the evaluation, answered in order

    def chunked(blocks: Iterable[list[bytes]]) -> Iterator[list[bytes]]:
        for block in blocks:
            for start in range(0, len(block), CHUNK):
                fed.append(block[start : start + CHUNK])
                yield fed[-1]

    def written(keys: list[bytes], prfs: list[bytes]) -> int:
        if any(len(key) != KEY_BYTES for key in keys):
            raise ValueError(f"the store holds a match key that is not {KEY_BYTES} bytes")
        joined = b"".join(prfs)
        added = _add(node, epoch, b"".join(keys), joined, record_changes)
        if kept is not None:
            kept.append(joined)
        if progress:
            progress(added)
        return added

    count = 0
    with node.reading() as reader:
        missing = _missing_keys(reader, epoch)
        # The first block tells whether worker processes pay (counting the keys first would
        # read the store once more, with the workers idle).
        first = next(missing, [])
        if not first:
            return 0
        with _pool(len(first), workers) as pool:
            if pool is None:
                outputs = voprf.evaluate_many(node.keys.oprf, first, voprf.Mode.VOPRF)
                return written(first, [output[:PRF_BYTES] for output in outputs])
            evaluated = voprf.evaluate_chunks(
                node.keys.oprf,
                chunked(chain([first], missing)),
                voprf.Mode.VOPRF,
                executor=pool,
                keep=PRF_BYTES,
            )
            keys: list[bytes] = []
            prfs: list[bytes] = []
            for joined in evaluated:
                keys.extend(fed.popleft())
                prfs.append(joined)
                if len(keys) >= BATCH:
                    count += written(keys, prfs)
                    keys, prfs = [], []
            if keys:
                count += written(keys, prfs)
    return count


@contextmanager
def _pool(count: int, workers: int | None) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for a large batch (forkserver: safe from a process with threads)."""
    if count < POOL_FROM:
        yield None
        return
    context = multiprocessing.get_context("forkserver")
    # Workers start as the pool needs them, each from the main module of the moment: for the
    # pool's whole life that is a bare one.
    with (
        _without_main_module(),
        ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=context) as pool,
    ):
        yield pool


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Workers started from here alone: a forkserver worker would otherwise run the parent's
    main module again (the CLI's script, a benchmark), loading the whole node into a process
    that only evaluates (the import's worker does the same, node.importing.prepare)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _add(node: Node, epoch: int, keys: bytes, prfs: bytes, record_changes: bool) -> int:
    """Write evaluated keys (16 bytes each, joined) with their PRFs (PRF_BYTES each, joined)."""
    with node.unit_of_work() as session:
        connection = session.connection()
        added = write_packed(
            connection,
            OprfIndexEntry.__tablename__,
            {"epoch": epoch},
            {"key_value": (keys, KEY_BYTES), "prf": (prfs, PRF_BYTES)},
        )
        if record_changes:
            write_packed(
                connection,
                OprfIndexChange.__tablename__,
                {"epoch": epoch, "added": True},
                {"prf": (prfs, PRF_BYTES)},
            )
    return added


def _forget_gone(node: Node, epoch: int, record_changes: bool) -> int:
    """Forget the index entries of keys the store no longer holds (records deleted, re-keyed)."""
    still_held = select(MatchKey.key_value).where(MatchKey.key_value == OprfIndexEntry.key_value)
    with node.reading() as session:
        gone = [
            (bytes(key), bytes(prf))
            for key, prf in session.execute(
                select(OprfIndexEntry.key_value, OprfIndexEntry.prf).where(
                    OprfIndexEntry.epoch == epoch, ~still_held.exists()
                )
            )
        ]
    for start in range(0, len(gone), BATCH):
        batch = gone[start : start + BATCH]
        with node.unit_of_work() as session:
            session.execute(
                delete(OprfIndexEntry).where(
                    OprfIndexEntry.epoch == epoch,
                    OprfIndexEntry.key_value.in_([key for key, _prf in batch]),
                )
            )
            if record_changes:
                session.execute(
                    insert(OprfIndexChange),
                    [{"epoch": epoch, "prf": prf, "added": False} for _key, prf in batch],
                )
    return len(gone)


def _changes_since(node: Node, epoch: int, sequence: int) -> int:
    with node.reading() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OprfIndexChange)
                .where(OprfIndexChange.epoch == epoch, OprfIndexChange.id > sequence)
            )
            or 0
        )


def _build_snapshot(node: Node, epoch: int, directory: Path, prfs: bytes | None) -> Published:
    """Build the epoch's filter from every PRF in its index (read from the store unless given,
    joined), write it (atomically) and publish it; the changes it now includes are dropped (a
    peer behind them fetches the snapshot)."""
    sequence = latest_sequence(node, epoch)
    if prfs is None:
        with node.reading() as session:
            rows = session.connection().execute(
                select(OprfIndexEntry.prf)
                .where(OprfIndexEntry.epoch == epoch)
                .execution_options(yield_per=100_000)
            )
            prfs = b"".join(rows.scalars())
    hashes = np.frombuffer(prfs, dtype="<u8").astype(np.uint64)
    built = index_filter.build(hashes)
    name = f"filter-e{epoch}-s{sequence}.bin"
    built.write(directory / name)
    digest = built.digest()
    with node.unit_of_work() as session:
        row = session.get(OprfSnapshot, epoch, with_for_update=True)
        previous = row.file_name if row is not None else None
        if row is None:
            session.add(
                OprfSnapshot(
                    epoch=epoch, sequence=sequence, size=built.size, digest=digest, file_name=name
                )
            )
        else:
            row.sequence, row.size, row.digest, row.file_name = sequence, built.size, digest, name
        session.execute(
            delete(OprfIndexChange).where(
                OprfIndexChange.epoch == epoch, OprfIndexChange.id <= sequence
            )
        )
    if previous and previous != name:
        (directory / previous).unlink(missing_ok=True)  # peers mapping it keep their mapping
    return Published(epoch, sequence, built.size, digest, directory / name)


def _hashes(prfs: Iterable[bytes]) -> np.ndarray:
    raw = b"".join(prfs)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)
