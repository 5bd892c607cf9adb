"""The information product as a PDF: the page's own template rendered by WeasyPrint with the print
stylesheet, fetching nothing but the node's static files (no network, nothing outside them)."""

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
            raise ValueError(f"the PDF may use only the node's static files, not {url}")
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(self.folder):
            raise ValueError(f"the PDF may use only the node's static files, not {path}")
        return super().fetch(url, headers)


def render_pdf(html: str, static_folder: Path) -> bytes:
    """The PDF of a page whose relative links name files in `static_folder` (e.g. print.css)."""
    folder = static_folder.resolve()
    document = HTML(string=html, base_url=f"{folder.as_uri()}/", url_fetcher=StaticOnly(folder))
    pdf: bytes = document.write_pdf()
    return pdf
