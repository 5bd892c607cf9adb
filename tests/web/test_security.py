"""Security headers, cookies and CSRF, as the browser receives them."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask import Flask

from node.web import create_app
from node.web.permissions import public
from node.web.services import current_node
from tests.web.conftest import WebClient, WebNode


def _csp(header: str) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


def test_every_page_sends_a_csp_whose_nonce_is_fresh_and_on_every_script(web: WebClient) -> None:
    nonces = []
    for _ in range(2):
        page = web.get("/sign-in")
        csp = _csp(page.response.headers["Content-Security-Policy"])
        assert csp["default-src"] == "'self'"
        assert csp["object-src"] == "'none'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["form-action"] == "'self'"
        assert csp["base-uri"] == "'none'"
        assert csp["style-src"] == "'self'"
        [nonce] = re.findall(r"'nonce-([^']+)'", csp["script-src"])
        scripts = page.soup.find_all("script")
        assert len(scripts) >= 2  # the js-enabled class and the module that starts the components
        assert {script.get("nonce") for script in scripts} == {nonce}
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_hardening_headers_are_on_pages_and_errors(web: WebClient) -> None:
    for page in (web.get("/sign-in"), web.get("/no-such-page", status=404)):
        headers = page.response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Content-Security-Policy" in headers


def test_pages_are_never_stored_but_static_assets_may_be(web: WebClient, web_node: WebNode) -> None:
    start = web.sign_in(web_node.users["manager"])
    for page in (start, web.get("/sign-in", status=302), web.get("/nothing", status=404)):
        assert page.response.headers["Cache-Control"] == "no-store"
    for asset in ("/static/app.css", "/favicon.ico"):
        response = web.client.get(asset)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_no_hsts_on_a_plain_http_demo(web: WebClient) -> None:
    assert "Strict-Transport-Security" not in web.get("/sign-in").response.headers


@pytest.fixture
def secure_app(web_node: WebNode) -> Flask:
    web = dataclasses.replace(web_node.config.web, secure_cookies=True)
    app = create_app(dataclasses.replace(web_node.config, web=web), testing=True)
    yield app
    current_node(app).engine.dispose()


def test_on_https_the_cookie_is_secure_host_only_and_hsts_is_sent(secure_app: Flask) -> None:
    response = secure_app.test_client().get("/sign-in", base_url="https://hub.example")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mash-session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "domain" not in attributes
    assert "SameSite=Strict" in cookie


def test_the_plain_cookie_is_http_only_and_same_site_strict(web: WebClient) -> None:
    cookie = web.get("/sign-in").response.headers["Set-Cookie"]

    assert cookie.startswith("mash-session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie


def test_signing_out_without_the_csrf_token_is_refused(web: WebClient, web_node: WebNode) -> None:
    web.sign_in(web_node.users["manager"])

    refused = web.post("/sign-out", {}, status=400)

    assert "This form has expired" in refused.main_text
    assert web.get("/").title.startswith("Start")


def test_a_tampered_cookie_is_ignored(web: WebClient, web_node: WebNode) -> None:
    web.sign_in(web_node.users["manager"])
    value = web.cookie()
    assert value is not None
    web.client.set_cookie("mash-session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))

    assert web.get("/", status=302).location == "/sign-in"


def test_an_unexpected_error_shows_the_500_page_without_details(web_node: WebNode) -> None:
    app = create_app(web_node.config)  # not testing: errors are handled, not raised

    @app.get("/broken")
    @public
    def broken() -> str:
        raise RuntimeError("secret internal detail")

    try:
        response = app.test_client().get("/broken")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Sorry, there is a problem with the service" in body
        assert "secret internal detail" not in body
        assert response.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" in response.headers
    finally:
        current_node(app).engine.dispose()


def test_every_id_route_answers_404_for_an_id_the_store_cannot_hold(
    web: WebClient, web_node: WebNode
) -> None:
    """2^31 does not fit PostgreSQL's INTEGER, 2^63 not even SQLite's; 0 is no id either."""
    web.sign_in(web_node.users["manager"])
    rules = [
        rule
        for rule in web.client.application.url_map.iter_rules()
        if rule.arguments and rule.endpoint != "static"
    ]
    assert rules and all(
        rule._converters[name].__class__.__name__ == "StoreIdConverter"
        for rule in rules
        for name in rule.arguments
    ), "every route argument is a store id"
    for rule in rules:
        for too_big in (2**31, 2**63, 10**30, 0):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<id:{name}>", str(too_big))
            assert "<" not in path, path
            method = "GET" if "GET" in (rule.methods or ()) else "POST"
            response = web.client.open(path, method=method, data={})
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        fine = rule.rule
        for name in rule.arguments:
            fine = fine.replace(f"<id:{name}>", str(2**31 - 1))
        assert web.client.open(fine, method=method, data={}).status_code != 500, fine
