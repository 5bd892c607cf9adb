"""Signing in and out, as a user does it: password, second factor, expiry, rate limits."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, update

from mash_common.auth import throttle
from node import users
from node.auth import attempts, totp
from node.store.models import AuditEntry, SignInAttempt, User, WebSession, utcnow
from node.web import create_app
from node.web.services import current_node
from tests.conftest import fresh_pg_database
from tests.helpers import ADMIN
from tests.web.conftest import WebClient, WebNode, build_node, open_node


def _actions(node: WebNode, action: str) -> list[AuditEntry]:
    with node.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _web_sessions(node: WebNode, username: str) -> list[WebSession]:
    with node.sessions() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return list(session.scalars(select(WebSession).where(WebSession.user_id == user_id)))


def _set_session_times(node: WebNode, username: str, **times: dt.datetime) -> None:
    with node.sessions() as session, session.begin():
        user_id = session.scalar(select(User.id).where(User.username == username))
        session.execute(update(WebSession).where(WebSession.user_id == user_id).values(**times))


def test_signing_in_with_password_and_code_reaches_the_start_page(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["police.pro"]
    assert web.get("/", status=302).location == "/sign-in"

    start = web.sign_in(user)

    assert start.title == "Start – Hackney MASH"
    assert "Signed in as Priya Castell" in start.main_text
    assert "Agency professional" in start.main_text
    assert "Police" in start.main_text
    signed_in = _actions(web_node, "sign-in.succeeded")
    assert [entry.actor for entry in signed_in] == ["police.pro"]
    assert json.loads(signed_in[0].detail)["totp_step"] > 0
    assert web.get("/sign-in", status=302).location == "/"


def test_the_session_store_keeps_only_a_hash_of_the_token(
    web: WebClient, web_node: WebNode
) -> None:
    web.sign_in(web_node.users["manager"])

    from flask.sessions import SecureCookieSessionInterface

    app = web.client.application
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    token = serializer.loads(web.cookie())["token"]
    raw = base64.urlsafe_b64decode(token)
    assert len(raw) == 32
    [stored] = _web_sessions(web_node, "manager")
    assert stored.token_hash == hashlib.sha256(raw).digest()
    assert stored.second_factor_done


def test_a_wrong_password_gets_a_message_that_does_not_say_which_field_was_wrong(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    wrong_password = web.give_password(user, "not-the-password-at-all", status=200)
    unknown_user = web.submit(
        web.get("/sign-in"), {"username": "nobody.here", "password": user.password}, status=200
    )

    assert wrong_password.error_messages == ["The username or password is not right"]
    assert unknown_user.error_messages == wrong_password.error_messages
    assert wrong_password.title.startswith("Error: ")
    assert _web_sessions(web_node, "manager") == []
    assert len(_actions(web_node, "sign-in.failed")) == 2


def test_a_half_signed_in_user_cannot_open_the_start_page(
    web: WebClient, web_node: WebNode
) -> None:
    web.give_password(web_node.users["manager"])

    assert web.get("/", status=302).location == "/sign-in/two-factor"


def test_a_disabled_user_cannot_sign_in(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["health.pro"]
    with web_node.sessions() as session, session.begin():
        users.set_disabled(session, ADMIN, user.username, True)

    page = web.give_password(user, status=200)

    assert page.error_messages == ["The username or password is not right"]


def test_disabling_a_user_ends_the_session_they_are_in(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["health.pro"]
    web.sign_in(user)
    web.get("/")
    with web_node.sessions() as session, session.begin():
        users.set_disabled(session, ADMIN, user.username, True)

    refused = web.get("/", status=302)

    assert refused.location == "/sign-in"
    assert "your account was disabled" in web.follow(refused).banners[0]
    [ended] = _web_sessions(web_node, user.username)
    assert ended.ended_at is not None


def test_a_session_unused_for_the_idle_time_ends(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["manager"]
    web.sign_in(user)
    idle = web_node.config.web.idle_minutes
    _set_session_times(
        web_node, user.username, last_seen_at=utcnow() - dt.timedelta(minutes=idle - 1)
    )
    web.get("/")  # still within the idle time: the visit keeps the session alive
    _set_session_times(web_node, user.username, last_seen_at=utcnow() - dt.timedelta(minutes=idle))

    refused = web.get("/", status=302)

    assert refused.location == "/sign-in"
    assert f"had not used the service for {idle} minutes" in web.follow(refused).banners[0]
    assert _web_sessions(web_node, user.username)[0].ended_at is not None


def test_a_session_ends_after_the_absolute_time_however_busy(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    web.sign_in(user)
    hours = web_node.config.web.absolute_hours
    _set_session_times(
        web_node, user.username, created_at=utcnow() - dt.timedelta(hours=hours, minutes=-1)
    )
    web.get("/")
    _set_session_times(web_node, user.username, created_at=utcnow() - dt.timedelta(hours=hours))

    refused = web.get("/", status=302)

    assert f"signed in for {hours} hours" in web.follow(refused).banners[0]


def test_signing_out_ends_the_session_on_the_server(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["auditor"]
    start = web.sign_in(user)
    stolen = web.cookie()
    assert stolen is not None

    signed_out = web.submit(start, {}, form="form[action='/sign-out']")

    assert "You have signed out." in web.follow(signed_out).banners[0]
    assert _web_sessions(web_node, user.username)[0].ended_at is not None
    assert _actions(web_node, "sign-out")[0].actor == user.username
    web.client.set_cookie("mash-session", stolen)
    assert web.get("/", status=302).location == "/sign-in"


def test_sign_out_is_a_post_only(web: WebClient, web_node: WebNode) -> None:
    web.sign_in(web_node.users["auditor"])

    web.get("/sign-out", status=405)

    assert _web_sessions(web_node, "auditor")[0].ended_at is None


def test_failures_slow_the_next_attempt_with_a_growing_wait_and_are_audited(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    for _ in range(throttle.PAIR_FREE):  # the first few mistakes cost nothing
        web.give_password(user, "a-wrong-password-here", status=200)

    refused = web.give_password(user, status=429)  # even the right password must wait now

    assert re.search(r"Try again in (30|29|28) seconds\.", refused.main_text), refused.main_text
    [entry] = _actions(web_node, "sign-in.rate-limited")
    assert entry.object_ref == "user:manager"
    assert json.loads(entry.detail)["by"] == "username and address"
    assert _web_sessions(web_node, "manager") == []


def test_the_wait_doubles_with_each_failure_up_to_fifteen_minutes(web_node: WebNode) -> None:
    now = utcnow()
    with web_node.sessions() as session, session.begin():
        waits = []
        for _ in range(12):
            session.add(SignInAttempt(username="police.pro", address="10.0.0.9", at=now))
            session.flush()
            try:
                attempts.check_allowed(session, "police.pro", "10.0.0.9", now)
                waits.append(0)
            except throttle.TooManyAttempts as exc:
                waits.append(exc.seconds)
    assert waits[: throttle.PAIR_FREE - 1] == [0, 0]
    assert waits[throttle.PAIR_FREE - 1 :][:6] == [30, 60, 120, 240, 480, 900]
    assert max(waits) == 900


def test_one_persons_mistakes_do_not_stop_their_colleagues_at_the_same_address(
    web_node: WebNode,
) -> None:
    """Twenty failures from the hub's address slow down usernames new to it, never the users
    who have signed in from it before."""
    now = utcnow()
    with web_node.sessions() as session, session.begin():
        session.add(
            SignInAttempt(
                username="auditor",
                address="10.1.1.1",
                succeeded=True,
                at=now - dt.timedelta(days=3),
            )
        )
        for n in range(throttle.ADDRESS_FREE):
            session.add(
                SignInAttempt(
                    username=f"guess{n}", address="10.1.1.1", at=now - dt.timedelta(seconds=20 - n)
                )
            )
        session.flush()
        attempts.check_allowed(session, "auditor", "10.1.1.1", now)  # a known pair: let in
        with pytest.raises(throttle.TooManyAttempts) as refused:
            attempts.check_allowed(session, "manager", "10.1.1.1", now)  # new here: slowed
        assert refused.value.by == "address"
        attempts.check_allowed(session, "manager", "10.9.9.9", now)  # elsewhere: let in


def test_guessing_one_username_from_many_addresses_slows_only_new_addresses(
    web_node: WebNode,
) -> None:
    now = utcnow()
    with web_node.sessions() as session, session.begin():
        session.add(
            SignInAttempt(
                username="manager",
                address="10.0.0.1",
                succeeded=True,
                at=now - dt.timedelta(hours=2),
            )
        )
        for n in range(throttle.USERNAME_FREE):
            session.add(
                SignInAttempt(
                    username="manager", address=f"203.0.113.{n}", at=now - dt.timedelta(seconds=5)
                )
            )
        session.flush()
        with pytest.raises(throttle.TooManyAttempts) as refused:
            attempts.check_allowed(session, "manager", "203.0.113.200", now)
        assert refused.value.by == "username"
        attempts.check_allowed(session, "manager", "10.0.0.1", now)  # the manager's own desk


def test_a_success_and_time_clear_the_wait(web_node: WebNode) -> None:
    now = utcnow()
    with web_node.sessions() as session, session.begin():
        for seconds in (40, 30, 20):
            session.add(
                SignInAttempt(
                    username="manager", address="10.0.0.1", at=now - dt.timedelta(seconds=seconds)
                )
            )
        session.flush()
        with pytest.raises(throttle.TooManyAttempts):  # three failures: wait 30 s after the last
            attempts.check_allowed(session, "manager", "10.0.0.1", now)
        attempts.check_allowed(session, "manager", "10.0.0.1", now + dt.timedelta(seconds=11))
        session.add(SignInAttempt(username="manager", address="10.0.0.1", succeeded=True, at=now))
        session.flush()
        attempts.check_allowed(session, "manager", "10.0.0.1", now)  # none since the success


def test_an_administrator_lifts_the_wait_and_it_is_audited(
    web: WebClient, web_node: WebNode
) -> None:
    stuck = web_node.users["police.pro"]
    other = WebClient(web.client.application.test_client())
    for _ in range(throttle.PAIR_FREE):
        other.give_password(stuck, "a-wrong-password-here", status=200)
    other.give_password(stuck, status=429)

    web.sign_in(web_node.users["node.admin"])
    admin_page = web.get("/admin")
    assert "police.pro" in admin_page.soup.select_one("#sign-in-delays ~ table").get_text()
    lifted = web.submit(admin_page, {"username": "police.pro"}, form="#sign-in-delays ~ table form")
    assert "police.pro can sign in again now" in " ".join(web.follow(lifted).banners)
    other.sign_in(stuck)  # no wait now
    assert _actions(web_node, "sign-in.delays-lifted")[0].object_ref == "user:police.pro"


def test_wrong_codes_count_towards_the_limit(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["police.pro"]
    code_page = web.follow(web.give_password(user))
    wrong = f"{(int(user.code()) + 1) % 1_000_000:06d}"
    for _ in range(throttle.PAIR_FREE - 1):  # the password's success cleared the pair's count
        code_page = web.submit(code_page, {"code": wrong}, status=200)
        assert code_page.error_messages == [
            "The code is not right. Enter the code your authenticator app shows now"
        ]
    code_page = web.submit(code_page, {"code": wrong}, status=200)

    web.submit(code_page, {"code": user.code()}, status=429)
    assert len(_actions(web_node, "sign-in.second-factor-failed")) == throttle.PAIR_FREE


def test_a_code_cannot_be_used_twice(web: WebClient, web_node: WebNode) -> None:
    user = web_node.users["police.pro"]
    code = user.code()
    start = web.sign_in(user)
    web.submit(start, {}, form="form[action='/sign-out']")

    code_page = web.follow(web.give_password(user))
    reused = web.submit(code_page, {"code": code}, status=200)

    assert reused.error_messages == [
        "That code has already been used. Wait for your app to show a new code, then enter it"
    ]
    assert web.follow(web.submit(reused, {"code": user.code(steps_ahead=1)})).title.startswith(
        "Start"
    )


def test_a_new_user_sets_up_their_authenticator_app_at_first_sign_in(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["newcomer"]
    assert web.give_password(user).location == "/sign-in/set-up-two-factor"
    assert web.get("/sign-in/two-factor", status=302).location == "/sign-in/set-up-two-factor"
    setup = web.get("/sign-in/set-up-two-factor")
    secret = setup.soup.select_one("#secret-key").get_text().replace(" ", "")
    assert setup.soup.select_one(".app-qr-code svg title") is not None
    assert (
        web.get("/sign-in/set-up-two-factor")
        .soup.select_one("#secret-key")
        .get_text()
        .replace(" ", "")
        == secret
    ), "reloading the page keeps the secret being set up"

    wrong = web.submit(
        setup, {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}, status=200
    )
    assert wrong.error_messages[0].startswith("The code is not right")
    start = web.follow(web.submit(wrong, {"code": pyotp.TOTP(secret).now()}))

    assert "Signed in as Nia Okafor" in start.main_text
    with web_node.sessions() as session:
        stored = session.scalar(select(User.totp_secret).where(User.username == user.username))
    assert stored is not None and secret not in stored
    assert totp.unseal_secret(web_node.keys, stored) == secret
    assert [e.actor for e in _actions(web_node, totp.ENROLLED)][-1] == user.username
    web.submit(start, {}, form="form[action='/sign-out']")
    assert web.give_password(user).location == "/sign-in/two-factor"
    assert web.get("/sign-in/set-up-two-factor", status=302).location == "/sign-in/two-factor"


def test_the_code_form_wants_six_digits(web: WebClient, web_node: WebNode) -> None:
    code_page = web.follow(web.give_password(web_node.users["manager"]))

    assert web.submit(code_page, {"code": ""}, status=200).error_messages == [
        "Enter the 6-digit code from your authenticator app"
    ]
    assert web.submit(code_page, {"code": "12a456"}, status=200).error_messages == [
        "Enter the code as 6 digits, like 123456"
    ]
    assert _actions(web_node, "sign-in.second-factor-failed") == []


def test_the_session_token_changes_when_the_second_factor_is_given(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    web.give_password(user)
    before = web.cookie()
    web.sign_in(user)
    web.client.set_cookie("mash-session", before)

    assert web.get("/", status=302).location == "/sign-in"


def test_after_signing_in_the_user_returns_to_the_page_they_asked_for_on_this_site_only(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    page = web.get("/sign-in?next=//evil.example/")
    done = web.submit(page, {"username": user.username, "password": user.password})
    code_page = web.follow(done)
    assert web.submit(code_page, {"code": user.code()}).location == "/"


def test_a_form_sent_without_its_csrf_token_is_refused_as_expired(
    web: WebClient, web_node: WebNode
) -> None:
    user = web_node.users["manager"]
    page = web.post("/sign-in", {"username": user.username, "password": user.password}, status=400)

    assert page.title == "This form has expired – Hackney MASH"
    assert _actions(web_node, "sign-in.failed") == []


@pytest.mark.postgres
def test_signing_in_and_out_on_postgresql(tmp_path: Path) -> None:
    with fresh_pg_database("mash_web") as url:
        people = build_node(tmp_path / "node", database_url=url)
        node = open_node(tmp_path / "node", people)
        app = create_app(node.config, testing=True)
        try:
            web = WebClient(app.test_client())
            user = people["police.pro"]
            code = user.code()  # the one signing in uses (a new one once its 30 seconds are up)
            start = web.sign_in(user)
            assert "Signed in as Priya Castell" in start.main_text
            web.submit(start, {}, form="form[action='/sign-out']")
            code_page = web.follow(web.give_password(user))
            assert (
                web.submit(code_page, {"code": code}, status=200)
                .error_messages[0]
                .startswith("That code has already been used")
            )
            assert _web_sessions(node, user.username)[0].ended_at is not None
        finally:
            current_node(app).engine.dispose()
            node.sessions.kw["bind"].dispose()
