"""A report's page made ready for WeasyPrint: the classes the print stylesheet (report.css) does
not use taken off (matching each element's classes against the stylesheets is a third of the
PDF's time), and the folded tables unfolded (paper has no <details>)."""

from __future__ import annotations

import re

from markupsafe import Markup

# Every class report.css styles.
PRINTED_CLASSES = frozenset(
    {
        "govuk-visually-hidden",
        "govuk-caption-xl",
        "govuk-heading-xl",
        "govuk-heading-l",
        "govuk-heading-m",
        "govuk-heading-s",
        "govuk-body-l",
        "govuk-body",
        "govuk-body-s",
        "govuk-list",
        "app-chart",
        "app-chart__picture",
        "app-chart__svg",
        "app-chart__legend",
        "app-chart__legend-item",
        "app-chart__swatch",
        "app-chart__note",
        "govuk-table__header--numeric",
        "govuk-table__cell--numeric",
    }
)
_CLASS = re.compile(r' class="([^"]*)"')
_SUMMARY = re.compile(r"<summary\b[^>]*>.*?</summary>", re.S)
_DETAILS = re.compile(r"<(/?)details\b[^>]*>")


def _kept(found: re.Match[str]) -> str:
    kept = [name for name in found[1].split() if name in PRINTED_CLASSES]
    return f' class="{" ".join(kept)}"' if kept else ""


def for_print(html: str) -> Markup:
    """The report's HTML (our own template's, already escaped) as the PDF renderer gets it."""
    html = _SUMMARY.sub("", html)
    html = _DETAILS.sub(lambda m: f"<{m[1]}div>", html)
    return Markup(_CLASS.sub(_kept, html))  # noqa: S704 - only attributes are taken out
