"""The Nodes pages: every reader sees the enrolled nodes and which are revoked, and why; an
administrator revokes one with a reason (which bumps the signed directory's version); an editor
or a viewer cannot, and a reason is required."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import Flask
from sqlalchemy import select

from coordinator.nodes.directory import bump_version, current_version, directory_body
from coordinator.store.models import AccessEvent, EnrolledNode, NodeHeartbeat
from tests.coordinator.conftest import Built, client_for


def _enrolled(built: Built, *boroughs: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with built.coordinator.unit_of_work() as session:
        for index, borough in enumerate(boroughs):
            session.add(
                EnrolledNode(
                    borough=borough,
                    endpoint=f"{borough}-mash.example.org:50051",
                    verify_key=bytes([index + 1]) * 32,
                    box_key=bytes([index + 2]) * 32,
                    oprf_public_key=bytes([index + 3]) * 32,
                    oprf_epoch=1,
                    certificate_pem="-",
                    certificate_sha256=hashlib.sha256(borough.encode()).digest(),
                    token_id=f"{index:016x}",
                    enrolled_at=now,
                )
            )
            bump_version(session, now)


def test_an_administrator_revokes_a_node_with_a_reason_and_readers_see_it(
    app: Flask, built: Built
) -> None:
    _enrolled(built, "hackney", "lambeth")
    admin = client_for(app, built.users["admin"])
    listing = admin.get("/nodes")
    assert "version 2" in listing.main_text
    form = admin.get("/nodes/lambeth/revoke")
    empty = admin.submit(form, {"reason": ""}, status=200)
    assert "Say why the node is revoked" in " ".join(empty.error_messages)

    done = admin.submit(form, {"reason": "Its signing key was copied off the server"})
    shown = admin.follow(done)

    assert "directory version 3 lists it" in shown.main_text
    viewer = client_for(app, built.users["viewer"])
    row = viewer.get("/nodes").soup.select_one("tr[data-borough=lambeth]")
    assert row is not None and "Revoked" in row.get_text()
    assert "Its signing key was copied off the server" in row.get_text()
    assert "Revoke" not in (viewer.get("/nodes").soup.select_one("#nodes") or row).get_text(
        " "
    ).replace("Revoked", "")
    with built.coordinator.reading() as session:
        body = directory_body(session, now=dt.datetime.now(dt.UTC), valid_for=dt.timedelta(1))
        assert current_version(session) == 3
        events = list(session.scalars(select(AccessEvent.action)))
    revoked = {n.borough: (n.revoked, n.revoked_reason) for n in body.nodes}
    assert revoked == {
        "hackney": (False, ""),
        "lambeth": (True, "Its signing key was copied off the server"),
    }
    assert "node.revoked" in events


def test_the_overview_names_nodes_gone_silent_and_the_nodes_page_shows_their_health(
    app: Flask, built: Built
) -> None:
    _enrolled(built, "hackney", "lambeth")
    now = dt.datetime.now(dt.UTC)
    with built.coordinator.unit_of_work() as session:
        session.add(
            NodeHeartbeat(
                borough="hackney", received_at=now, software_version="0.1.0", key_set_version=3,
                filter_epoch=2, filter_size=12345, reports_queued=1, requests_undelivered=0,
                requests_open=2, answers_undelivered=0, last_import_at=now, directory_version=2,
            )
        )  # fmt: skip
    viewer = client_for(app, built.users["viewer"])
    banner = viewer.get("/").soup.select_one("#node-health")
    assert banner is not None
    assert "Not heard from lately: Lambeth." in " ".join(banner.get_text(" ").split())
    page = viewer.get("/nodes").soup
    hackney = " ".join(page.select_one("tr[data-borough=hackney]").get_text(" ").split())  # type: ignore[union-attr]
    lambeth = " ".join(page.select_one("tr[data-borough=lambeth]").get_text(" ").split())  # type: ignore[union-attr]
    assert "Live" in hackney and "0.1.0" in hackney and "2: 12,345" in hackney
    assert "2 request(s) to answer" in hackney
    assert "Silent" in lambeth and "Never" in lambeth


def test_an_editor_or_a_viewer_cannot_revoke(app: Flask, built: Built) -> None:
    _enrolled(built, "hackney")
    for who in ("editor", "viewer"):
        client = client_for(app, built.users[who])
        client.get("/nodes/hackney/revoke", status=403)
    with built.coordinator.reading() as session:
        node = session.get_one(EnrolledNode, "hackney")
        assert node.revoked_at is None
