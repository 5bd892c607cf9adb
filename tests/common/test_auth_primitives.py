"""The sign-in primitives node and coordinator share: argon2id, TOTP, tokens and throttling."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from mash_common.auth import passwords, throttle, tokens, totp


def test_a_password_hash_is_argon2id_and_checks_only_its_password() -> None:
    hashed = passwords.hash_password("Correct-horse-battery")

    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "Correct-horse-battery")
    assert not passwords.verify_password(hashed, "correct-horse-battery")
    assert not passwords.verify_password(None, "Correct-horse-battery")
    assert not passwords.verify_password("not a hash", "Correct-horse-battery")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-one", "at least 12"),
        ("xx-jo.smith-xx", "username"),
        ("aaaaaaaaaaaabbbb", "different characters"),
    ],
)
def test_password_rules_name_the_field(password: str, why: str) -> None:
    with pytest.raises(passwords.PasswordRuleBroken, match=why) as refused:
        passwords.check_password_rules("jo.smith", password)
    assert refused.value.field == "password"


def test_a_code_matches_its_step_and_is_refused_once_used() -> None:
    secret = totp.new_secret()
    now = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    code = pyotp.TOTP(secret).at(now)

    step = totp.matching_step(secret, f" {code[:3]} {code[3:]} ", now)

    assert step == pyotp.TOTP(secret).timecode(now)
    totp.check_not_reused(step - 1, step)
    with pytest.raises(totp.CodeReused):
        totp.check_not_reused(step, step)
    with pytest.raises(totp.CodeRejected):
        totp.matching_step(secret, code, now + dt.timedelta(minutes=5))


def test_a_token_is_kept_as_its_digest_and_anything_else_is_no_token() -> None:
    token = tokens.new_token()

    assert len(tokens.token_digest(token) or b"") == 32
    assert tokens.token_digest(token) != tokens.token_digest(tokens.new_token())
    assert tokens.token_digest("not-a-token") is None
    assert tokens.token_digest("é") is None


def test_delays_begin_after_the_free_failures_double_and_stop_at_the_most() -> None:
    now = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    failures = [now - dt.timedelta(seconds=s) for s in (50, 40, 30, 20, 10)]

    assert throttle.wait_after(failures[:2], 3, now) == 0  # within the free failures
    assert throttle.wait_after(failures[:3], 3, now) == 0  # 30 s after one 30 s ago
    assert throttle.wait_after(failures[:4], 3, now) == 40  # 60 s after one 20 s ago
    assert throttle.wait_after(failures, 3, now) == 110  # 120 s after one 10 s ago
    assert throttle.wait_after([now] * 20, 3, now) == 900  # never more than 15 minutes


def test_a_refusal_says_which_rule_and_how_long_in_words() -> None:
    assert str(throttle.TooManyAttempts(1, "address")).endswith("try again in 1 second")
    refused = throttle.TooManyAttempts(61, "username and address")
    assert (refused.minutes, refused.wait) == (2, "2 minutes")
    assert "by username and address" in str(refused)
