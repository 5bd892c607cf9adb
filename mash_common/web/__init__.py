"""What the node's and the coordinator's web UIs share: the built GOV.UK Design System assets
(`static/`, built from `assets/` by `assets/build.sh`), the security headers every response
carries (`security`) and the PDF renderer of printable pages (`pdf`). Flask glue only; no store,
no Flask app of its own."""

from __future__ import annotations

from pathlib import Path

STATIC_FOLDER = Path(__file__).resolve().with_name("static")
ASSETS_FOLDER = Path(__file__).resolve().with_name("assets")
