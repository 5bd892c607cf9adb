"""Printable pages as PDF (the node's information product, the coordinator's evaluation reports):
the page's own HTML rendered by WeasyPrint with a print stylesheet, fetching nothing but files of
one static folder (no network, nothing outside it)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class StaticOnly(URLFetcher):
    """Fetches file: URLs inside one folder and refuses everything else."""

    def __init__(self, folder: Path) -> None:
        super().__init__(allowed_protocols=["file"])
        self.folder = folder.resolve()

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if not url.startswith("file:"):
            raise ValueError(f"the PDF may use only the static files, not {url}")
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(self.folder):
            raise ValueError(f"the PDF may use only the static files, not {path}")
        return super().fetch(url, headers)


def render_pdf(html: str, static_folder: Path) -> bytes:
    """The PDF of a page whose relative links name files in `static_folder` (e.g. print.css)."""
    folder = static_folder.resolve()
    document = HTML(string=html, base_url=f"{folder.as_uri()}/", url_fetcher=StaticOnly(folder))
    pdf: bytes = document.write_pdf()
    return pdf
