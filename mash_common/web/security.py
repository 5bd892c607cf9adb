"""Security headers for every response of a web UI (the node's and the coordinator's), set in one
`after_request`: CSP with a per-request nonce, HSTS on HTTPS deployments, no-store for everything
but static assets, and the usual hardening."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

NONCE_BYTES = 18
STATIC_ENDPOINTS = frozenset({"static"})  # assets: nothing personal, may be cached
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)


def csp_nonce() -> str:
    """This request's CSP nonce (made on first use), for `<script nonce>` tags."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "frame-ancestors 'none'; "
        "form-action 'self'"
    )


def install_headers(
    app: Flask, *, hsts: bool, cacheable: frozenset[str] = STATIC_ENDPOINTS
) -> None:
    """Add the headers to every response of `app`; HSTS only when it is served over HTTPS.
    Responses of the `cacheable` endpoints (static assets, an icon) may be cached; every other
    one is sent `no-store`."""

    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS
        if request.endpoint not in cacheable:
            # Pages carry personal data: never keep them in a cache or the back-forward history.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response

    app.after_request(add_headers)
