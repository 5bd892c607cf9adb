"""The published index: kept up to the store's match keys by import, deletion and re-derivation,
published as snapshots and deltas, and moved to a new epoch by a key rotation (on SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from node.agencies import sync_agencies
from node.federation import index, index_filter, voprf
from node.importing.service import import_files
from node.keys import load_keys, rotate_oprf
from node.match_key_set import rederive
from node.matching.keys import Identity, derive_keys
from node.runtime import Node
from node.store.models import MatchKey, OprfIndexChange, OprfIndexEntry, OprfSnapshot, PersonRecord
from tests.conftest import fresh_pg_database
from tests.federation.nodes import local_federation
from tests.helpers import ADMIN, write_csv

PEOPLE = [
    {"record_id": f"P{n}", "forenames": name, "surname": "Adebayo", "date_of_birth": born}
    for n, (name, born) in enumerate(
        [("Tola", "2012-01-05"), ("Kemi", "2014-07-19"), ("Dapo", "2009-11-30")]
    )
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Node]:
    (local,) = local_federation(tmp_path, [("hackney", "Hackney")])
    if request.param == "postgresql":
        database = request.getfixturevalue("pg_index_url")
        text = local.config_path.read_text()
        local.config_path.write_text(
            text.replace("[hub]", f'database_url = "{database}"\n\n[hub]', 1)
        )
        # The node was set up on SQLite: its checkpoint file vouches for that store, not this one.
        (local.directory / "data" / "keys" / "audit-checkpoints").unlink()
        with Node.initialise(local.config_path) as fresh, fresh.unit_of_work() as session:
            sync_agencies(session, fresh.config.agencies)
    with Node.open(local.config_path) as opened:
        yield opened


@pytest.fixture
def pg_index_url() -> Iterator[str]:
    with fresh_pg_database("mash_index") as url:
        yield url


def _import(node: Node, rows: list[dict[str, str]], *, remove_missing: bool = False) -> None:
    path = write_csv(node.config.data_dir / "police.csv", rows)
    with node.unit_of_work(ADMIN) as session:
        import_files(session, ADMIN, "police", [path], remove_missing=remove_missing)


def _prf_of(node: Node, row: dict[str, str], epoch: int | None = None) -> list[bytes]:
    identity = Identity.from_fields(
        row["forenames"], row["surname"], row["date_of_birth"], None, None
    )
    key = node.keys.oprf_key(epoch or node.keys.oprf_epoch)
    assert key is not None
    return [voprf.evaluate(key, k.value, voprf.Mode.VOPRF) for k in derive_keys(identity)]


def _published(node: Node) -> index_filter.IndexFilter:
    snapshot = index.current_snapshot(node, index.published_epoch(node) or 0)
    assert snapshot is not None
    return index_filter.load(snapshot.path, expected_digest=snapshot.digest)


def test_the_index_holds_the_prf_of_every_key_and_nothing_else(node: Node) -> None:
    _import(node, PEOPLE)
    refreshed = index.refresh(node)
    with node.reading() as session:
        keys = session.scalar(select(func.count(func.distinct(MatchKey.key_value))))
    assert refreshed.evaluated == keys and refreshed.rebuilt
    published = _published(node)
    assert published.size == keys
    for row in PEOPLE:
        assert all(published.contains(prf) for prf in _prf_of(node, row))
    stranger = {"forenames": "Ada", "surname": "Lovelace", "date_of_birth": "2010-12-10"}
    assert not any(published.contains(prf) for prf in _prf_of(node, stranger))
    assert index.refresh(node).evaluated == 0  # nothing new: nothing done


def test_imports_and_deletions_reach_peers_as_deltas(node: Node) -> None:
    _import(node, PEOPLE)
    first = index.refresh(node)
    assert first.snapshot is not None
    newcomer = {
        "record_id": "P9",
        "forenames": "Yinka",
        "surname": "Bello",
        "date_of_birth": "2011-04-02",
    }
    _import(node, [*PEOPLE[1:], newcomer], remove_missing=True)  # P0 leaves, P9 arrives
    refreshed = index.refresh(node)
    assert refreshed.evaluated > 0 and refreshed.forgotten > 0 and not refreshed.rebuilt
    delta, sequence = index.delta_since(node, first.snapshot.epoch, first.snapshot.sequence)
    assert sequence > first.snapshot.sequence
    current = index_filter.OverlaidFilter(_published(node), delta)
    assert all(current.contains(prf) for prf in _prf_of(node, newcomer))
    assert not any(current.contains(prf) for prf in _prf_of(node, PEOPLE[0]))
    assert all(current.contains(prf) for prf in _prf_of(node, PEOPLE[1]))
    with pytest.raises(LookupError):  # before the snapshot: only the snapshot has it
        index.delta_since(node, first.snapshot.epoch, first.snapshot.sequence - 1)


def test_many_changes_make_a_new_snapshot(node: Node) -> None:
    _import(node, PEOPLE)
    index.refresh(node)
    crowd = [
        {
            "record_id": f"C{n}",
            "forenames": f"Name{n}",
            "surname": f"Family{n}",
            "date_of_birth": "2012-02-02",
        }
        for n in range(600)
    ]
    _import(node, PEOPLE + crowd)
    refreshed = index.refresh(node)
    assert refreshed.rebuilt  # more than 1,000 changes: a fresh snapshot
    with node.reading() as session:
        assert session.scalar(select(func.count()).select_from(OprfIndexChange)) == 0


def _held_prfs(node: Node, epoch: int) -> dict[bytes, bytes]:
    with node.reading() as session:
        rows = session.execute(
            select(OprfIndexEntry.key_value, OprfIndexEntry.prf).where(
                OprfIndexEntry.epoch == epoch
            )
        )
        return {bytes(key): bytes(prf) for key, prf in rows}


def test_a_build_in_worker_processes_holds_what_one_by_one_evaluation_gives(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks, chunks and batches of a few keys, so the workers, the batches and the rows cut
    # from packed strings are all exercised on a small store.
    monkeypatch.setattr(index, "BATCH", 8)
    monkeypatch.setattr(index, "POOL_FROM", 8)
    monkeypatch.setattr(index, "CHUNK", 3)
    crowd = [
        {
            "record_id": f"C{n}",
            "forenames": f"Name{n}",
            "surname": "Family",
            "date_of_birth": "2012-02-02",
        }
        for n in range(6)
    ]
    _import(node, PEOPLE + crowd)
    epoch = node.keys.oprf_epoch
    refreshed = index.refresh(node, workers=2)
    with node.reading() as session:
        keys = {bytes(k) for k in session.scalars(select(MatchKey.key_value).distinct())}
    assert len(keys) > 3 * index.BATCH and refreshed.evaluated == len(keys)
    expected = {key: voprf.evaluate(node.keys.oprf, key, voprf.Mode.VOPRF)[:8] for key in keys}
    assert _held_prfs(node, epoch) == expected
    published = _published(node)  # built from the PRFs as they were written
    assert published.size == len(keys)
    for row in PEOPLE + crowd:
        assert all(published.contains(prf) for prf in _prf_of(node, row))

    # A first build cut off before its snapshot: the next refresh reads what was written, forgets
    # what is no longer held, and adds the rest.
    with node.unit_of_work() as session:
        session.execute(delete(OprfSnapshot))
        for key in sorted(keys)[::2]:
            session.execute(delete(OprfIndexEntry).where(OprfIndexEntry.key_value == key))
    _import(node, PEOPLE, remove_missing=True)  # the crowd leaves
    again = index.refresh(node, workers=2)
    with node.reading() as session:
        held = {bytes(k) for k in session.scalars(select(MatchKey.key_value).distinct())}
    assert again.rebuilt and again.forgotten > 0 and again.evaluated > 0
    assert _held_prfs(node, epoch) == {key: expected[key] for key in held}
    assert _published(node).size == len(held)


def test_re_derived_keys_are_re_indexed(node: Node) -> None:
    _import(node, PEOPLE)
    index.refresh(node)
    with node.unit_of_work() as session:  # a new key set: every key value changes
        session.execute(
            update(PersonRecord)
            .values(surname="Adebayo-Smith")
            .execution_options(synchronize_session=False)
        )
        rederive(session, ADMIN)
    refreshed = index.refresh(node)
    assert refreshed.evaluated > 0 and refreshed.forgotten > 0


def test_a_rotation_publishes_a_new_epoch_and_retires_the_old_after_its_grace(
    node: Node,
) -> None:
    _import(node, PEOPLE)
    index.refresh(node)
    rotate_oprf(node.config.keys_dir)
    rotated = Node.open(node.config.path)
    try:
        refreshed = index.refresh(rotated)
        assert refreshed.epoch == 2 and refreshed.rebuilt
        assert index.published_epoch(rotated) == 2
        assert index.honoured(rotated, 1) and index.honoured(rotated, 2)
        assert all(_published(rotated).contains(p) for p in _prf_of(rotated, PEOPLE[0], 2))
        assert index.retire_old_epochs(rotated) == []  # still in its grace period
        with rotated.unit_of_work() as session:
            session.execute(
                update(OprfSnapshot)
                .where(OprfSnapshot.epoch == 2)
                .values(built_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=4))
            )
        assert not index.honoured(rotated, 1)
        assert index.retire_old_epochs(rotated) == [1]
        with rotated.reading() as session:
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(OprfIndexEntry)
                    .where(OprfIndexEntry.epoch == 1)
                )
                == 0
            )
        assert 1 not in load_keys(rotated.config.keys_dir).oprf_epochs
    finally:
        rotated.close()
