"""What administrators and auditors can do in the web UI: see the users and agencies, see the
audit log's state and verify the whole log; read only, and every read audited."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from node.store.models import AuditEntry
from tests.web.conftest import WebClient, WebNode


def test_the_auditor_sees_every_user_and_agency_read_only(
    web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["auditor"])
    page = web.get("/admin")
    for user in web_node.users.values():
        assert user.display_name in page.main_text
    assert "Not set up yet" in page.main_text  # the newcomer has no second factor yet
    assert "Children's social care" in page.main_text
    assert page.soup.select("main form") == []  # nothing to change here


def test_verifying_the_log_finds_it_intact_then_finds_the_edit(
    web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["node.admin"])
    status = web.get("/audit")
    assert "Last signed checkpoint" in status.main_text
    intact = web.submit(status, {}, status=200)
    assert "The audit log is intact" in intact.main_text

    with sqlite3.connect(web_node.config.data_dir / "node.db") as db:
        db.execute("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2")
    failed = web.submit(web.get("/audit"), {}, status=200)
    assert "The audit log failed verification" in failed.main_text
    assert "audit entry 2" in failed.main_text

    with web_node.sessions() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.seq > 2)))
    assert actions.count("audit.verify") == 2 and "audit.status" in actions
