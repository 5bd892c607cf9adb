"""The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps) without any store: new
secrets, the provisioning URI and its QR code, checking a code, and refusing a code's reuse.

A code is accepted for the current step or one step either side, and only for a step later than
the last one the user signed in or enrolled with; the caller keeps that step with the user (and
locks the user's row while it checks, so two requests cannot both use one code).
"""

from __future__ import annotations

import datetime as dt

import pyotp
import segno
from pyotp.utils import strings_equal

DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1
SECRET_LENGTH = 32  # base32 characters: 160 bits, as RFC 4226 recommends


class CodeRejected(Exception):
    """The code is not one the user's authenticator app shows now."""


class CodeReused(CodeRejected):
    """The code (or an older one) was already used to sign in."""


def new_secret() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_code_svg(uri: str, title: str) -> str:
    """The URI as an inline SVG QR code (medium error correction, 4px modules)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, title=title))


def grouped(secret: str) -> str:
    """The secret in groups of four characters, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, now: dt.datetime) -> int:
    """The time step whose code this is (current or one either side), or raise CodeRejected."""
    code = normalise_code(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(code, totp.generate_otp(step)):
            return step
    raise CodeRejected("the code does not match the current one")


def check_not_reused(last_step: int | None, step: int) -> None:
    """Raise CodeReused unless `step` is after the last step the user signed in with."""
    if last_step is not None and step <= last_step:
        raise CodeReused("this code, or a later one, was already used; wait for a new code")
