"""The committed static files: present, referenced by the pages, and built from today's sources.

The CSS is not rebuilt here (that needs npm); instead `build.sh` records checksums of its
sources in `built-from.txt`, and this test fails if a source changed without a rebuild.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.web.conftest import WebClient

WEB = Path(__file__).resolve().parents[2] / "mash_common" / "web"
STATIC = WEB / "static"
ASSETS = WEB / "assets"
NOT_SHIPPED = {"govuk-crest.svg"}  # GOV.UK branding: only the GOV.UK header and footer use it


def test_the_build_is_up_to_date_with_its_sources() -> None:
    recorded = {}
    for line in (ASSETS / "built-from.txt").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        recorded[name] = digest
    current = {
        name: hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()
        for name in ("app.scss", "build.sh", "package.json", "package-lock.json")
    }

    assert recorded == current, (
        "run mash_common/web/assets/build.sh and commit mash_common/web/static"
    )


def test_the_stylesheet_uses_arial_and_every_image_it_names_is_shipped() -> None:
    css = (STATIC / "app.css").read_text(encoding="utf-8")

    assert "GDS Transport" not in css
    assert "font-family:arial,sans-serif" in css
    named = set(re.findall(r"url\(\"?/static/assets/images/([^\")]+)\"?\)", css))
    assert named, "the stylesheet names MOJ icons"
    missing = {
        name for name in named - NOT_SHIPPED if not (STATIC / "assets/images" / name).exists()
    }
    assert missing == set()


def test_pages_reference_the_shipped_css_scripts_and_icons(web: WebClient) -> None:
    page = web.get("/sign-in")
    stylesheets = [link["href"] for link in page.soup.select("link[rel=stylesheet]")]
    icons = [link["href"] for link in page.soup.select("link[rel=icon]")]
    module = "".join(script.get_text() for script in page.soup.select("script[type=module]"))
    scripts = re.findall(r'from "([^"]+)"', module)

    assert stylesheets == ["/static/app.css"]
    assert sorted(scripts) == ["/static/govuk-frontend.min.js", "/static/moj-frontend.min.js"]
    for url in [*stylesheets, *scripts, *icons]:
        response = web.client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) > 100, url
    assert "/assets/images/favicon" not in page.response.get_data(as_text=True)  # not GOV.UK's
    assert "govuk-header" not in page.response.get_data(as_text=True)
