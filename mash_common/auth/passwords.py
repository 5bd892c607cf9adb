"""Passwords: argon2id hashes (PyNaCl's pwhash, libsodium's interactive limits) in the standard
encoded form, and the rules a new password must meet."""

from __future__ import annotations

import nacl.exceptions
from nacl import pwhash

MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 5


class PasswordRuleBroken(ValueError):
    """A new password does not meet the rules; `message` says which, `field` is "password"."""

    code = "invalid"
    field = "password"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def hash_password(password: str) -> str:
    """An argon2id hash (libsodium's interactive limits) in the standard encoded form."""
    return pwhash.argon2id.str(password.encode("utf-8")).decode("ascii")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from. With no hash (an unknown or
    disabled user) the same work is spent anyway, so timing does not tell which names exist."""
    if password_hash is None:
        hash_password(password)
        return False
    try:
        return bool(pwhash.verify(password_hash.encode("ascii"), password.encode("utf-8")))
    except nacl.exceptions.InvalidkeyError:
        return False


def check_password_rules(username: str, password: str) -> None:
    """Raise PasswordRuleBroken unless the password is long and varied enough and does not
    contain the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRuleBroken(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if username.lower() in password.lower():
        raise PasswordRuleBroken("must not contain the username")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordRuleBroken(
            f"too easy to guess (use at least {MIN_DISTINCT_CHARACTERS} different characters)"
        )
