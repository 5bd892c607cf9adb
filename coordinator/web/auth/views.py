"""Sign-in pages: password, then the second factor (or setting it up), and signing out."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

import nacl.exceptions
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from coordinator.auth import signin
from coordinator.auth.sessions import SignedInUser
from coordinator.store.models import utcnow
from coordinator.web.auth.forms import CodeForm, SignInForm
from coordinator.web.errors import render_error
from coordinator.web.permissions import public, second_factor_pending
from coordinator.web.services import current_coordinator, unit_of_work
from coordinator.web.sessions import cookie_token, current_user, forget, remember
from mash_common.auth import totp
from mash_common.auth.throttle import TooManyAttempts
from mash_common.auth.totp import CodeRejected, CodeReused

blueprint = Blueprint("auth", __name__, template_folder="templates")

WRONG_PASSWORD = "The username or password is not right"  # noqa: S105 - a message
WRONG_CODE = "The code is not right. Enter the code your authenticator app shows now"
REUSED_CODE = "That code has already been used. Wait for your app to show a new code, then enter it"
NEXT_KEY = "next"
PENDING_KEY = "pending_totp"


@blueprint.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    user = current_user()
    if user is not None and user.second_factor_done:
        return redirect(url_for("overview.index"))
    form = SignInForm()
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        try:
            with unit_of_work(commit_despite=signin.REFUSALS) as db:
                accepted = signin.with_password(
                    db,
                    username,
                    form.password.data or "",
                    _address(),
                    utcnow(),
                    replacing=cookie_token(),
                )
        except TooManyAttempts as exc:
            return render_error(429, wait=exc.wait)
        except signin.PasswordRejected:
            form.password.errors.append(WRONG_PASSWORD)
        else:
            remember(accepted.token)
            wanted = _safe_next(request.args.get(NEXT_KEY))
            if wanted:
                session[NEXT_KEY] = wanted
            step = ".set_up_two_factor" if accepted.needs_enrolment else ".two_factor"
            return redirect(url_for(step))
    return render_template("auth/sign_in.html", form=form)


@blueprint.route("/sign-in/two-factor", methods=["GET", "POST"])
@second_factor_pending
def two_factor() -> ResponseReturnValue:
    user = _pending_user()
    if not user.has_second_factor:
        return redirect(url_for(".set_up_two_factor"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(commit_despite=signin.REFUSALS) as db:
                token = signin.with_code(
                    db, current_coordinator().keys, user, form.code.data or "", _address(), utcnow()
                )
        except TooManyAttempts as exc:
            return render_error(429, wait=exc.wait)
        except CodeRejected as exc:
            form.code.errors.append(REUSED_CODE if isinstance(exc, CodeReused) else WRONG_CODE)
        else:
            return _signed_in(token)
    return render_template("auth/two_factor.html", form=form)


@blueprint.route("/sign-in/set-up-two-factor", methods=["GET", "POST"])
@second_factor_pending
def set_up_two_factor() -> ResponseReturnValue:
    user = _pending_user()
    if user.has_second_factor:
        return redirect(url_for(".two_factor"))
    secret = _pending_secret(user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(commit_despite=signin.REFUSALS) as db:
                token = signin.with_new_secret(
                    db,
                    current_coordinator().keys,
                    user,
                    secret,
                    form.code.data or "",
                    _address(),
                    utcnow(),
                )
        except TooManyAttempts as exc:
            return render_error(429, wait=exc.wait)
        except signin.AlreadyEnrolled:
            return redirect(url_for(".two_factor"))
        except CodeRejected:
            form.code.errors.append(WRONG_CODE)
        else:
            return _signed_in(token)
    name = current_coordinator().config.name
    uri = totp.provisioning_uri(secret, user.username, name)
    qr_code = Markup(totp.qr_code_svg(uri, f"QR code to add {name} to your app"))  # noqa: S704 - segno's own SVG
    return render_template(
        "auth/set_up_two_factor.html", form=form, qr_code=qr_code, secret=totp.grouped(secret)
    )


@blueprint.post("/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    """Open to all, so that a half-finished sign-in can be abandoned too; CSRF still applies."""
    token = cookie_token()
    if token is not None:
        with unit_of_work() as db:
            signin.sign_out(db, current_user(), token, utcnow())
    forget()
    flash("You have signed out.", "signed-out")
    return redirect(url_for(".sign_in"))


def _pending_user() -> SignedInUser:
    user = current_user()
    if user is None:
        raise RuntimeError("second-factor page reached without a session")
    return user


def _signed_in(token: str) -> ResponseReturnValue:
    wanted = session.get(NEXT_KEY)
    remember(token)
    return redirect(wanted if isinstance(wanted, str) else url_for("overview.index"))


def _pending_secret(user: SignedInUser) -> str:
    """The secret being set up, kept sealed in the session cookie between the page's requests."""
    keys = current_coordinator().keys
    sealed = session.get(PENDING_KEY)
    if isinstance(sealed, str):
        try:
            owner, _, secret = keys.unseal(base64.b64decode(sealed)).decode().partition(":")
        except (binascii.Error, ValueError, nacl.exceptions.CryptoError):
            owner, secret = "", ""
        if owner == str(user.user_id) and secret:
            return secret
    secret = totp.new_secret()
    session[PENDING_KEY] = base64.b64encode(keys.seal(f"{user.user_id}:{secret}".encode())).decode(
        "ascii"
    )
    return secret


def _safe_next(value: str | None) -> str | None:
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return None
    return value


def _address() -> str:
    return request.remote_addr or "unknown"
