"""The coordinator's web UI for the central project team: `create_app(config)` builds it."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from coordinator.access import AccessDenied
from coordinator.config import CoordinatorConfig, load_config
from coordinator.runtime import Coordinator
from coordinator.web import cache, formatters
from coordinator.web.errors import register_error_handlers
from coordinator.web.permissions import check_permission, handle_access_denied, may_open
from coordinator.web.services import current_coordinator, install
from coordinator.web.sessions import (
    CACHEABLE_ENDPOINTS,
    configure_cookie,
    current_user,
    identify_user,
)
from mash_common.web import STATIC_FOLDER
from mash_common.web.security import csp_nonce, install_headers

CONFIG_ENVIRONMENT = "MASH_COORDINATOR_CONFIG"
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(
    config: CoordinatorConfig, *, testing: bool = False, coordinator: Coordinator | None = None
) -> Flask:
    """The web app: the coordinator opened once through its runtime (refusing a store behind
    this release) unless one is given, every page behind a permission check, CSRF on every form,
    the security headers on every response, and the GOV.UK assets shared with the nodes."""
    coordinator = coordinator or Coordinator.open(config)
    app = Flask(__name__, static_folder=str(STATIC_FOLDER), static_url_path="/static")
    app.config.update(
        TESTING=testing,
        SECRET_KEY=coordinator.keys.cookie_secret(),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        WTF_CSRF_SSL_STRICT=False,  # no Referer is sent (Referrer-Policy: no-referrer)
    )
    install(app, coordinator)
    cache.install(app)
    configure_cookie(app, config.web)
    _configure_templates(app)
    formatters.install(app)
    app.before_request(identify_user)
    WTFormsHelpers().init_app(app)
    app.before_request(check_permission)
    CSRFProtect().init_app(app)
    register_error_handlers(app)
    app.register_error_handler(AccessDenied, handle_access_denied)
    install_headers(app, hsts=config.web.secure_cookies, cacheable=CACHEABLE_ENDPOINTS)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """One blueprint per area of the central team's work:

    - `auth`: signing in with a password and a TOTP second factor (set up at first sign-in),
      and signing out; the only pages open to people who are not signed in.
    - `overview`: London at a glance: the waves on a timeline, stage counts, late milestones
      first, the map of the 33 authorities by stage (and the favicon).
    - `boroughs`: the list of authorities and each borough's page (stage, milestones, framework
      level over time, partners, agreements, funding, baseline, figures, history), and the
      editors' forms for each of them.
    - `waves`: the waves' plans and the editors' form for each.
    - `funding`: the comparative investment across boroughs, and the programme's settings.
    - `evaluation`: the figures the nodes send, London-wide and per borough, pilot waves against
      later ones, before against after go-live, and which reports have arrived.
    - `reports`: the interim and final evaluation reports as HTML, PDF and CSV.
    - `history`: every change to the plan, who made it and when, before and after.
    - `nodes`: the federation's enrolled nodes, their health, and (for administrators)
      revoking one.
    - `admin`: the coordinator's users, for administrators.
    """
    from coordinator.web.admin.views import blueprint as admin
    from coordinator.web.auth.views import blueprint as auth
    from coordinator.web.boroughs.views import blueprint as boroughs
    from coordinator.web.evaluation.views import blueprint as evaluation
    from coordinator.web.funding.views import blueprint as funding
    from coordinator.web.history.views import blueprint as history
    from coordinator.web.nodes.views import blueprint as nodes
    from coordinator.web.overview.views import blueprint as overview
    from coordinator.web.reports.views import blueprint as reports
    from coordinator.web.waves.views import blueprint as waves

    for blueprint in (
        auth,
        overview,
        boroughs,
        waves,
        funding,
        evaluation,
        reports,
        history,
        nodes,
        admin,
    ):
        app.register_blueprint(blueprint)


def app_from_environment() -> Flask:
    path = os.environ.get(CONFIG_ENVIRONMENT)
    if not path:
        raise RuntimeError(f"set {CONFIG_ENVIRONMENT} to the coordinator's configuration file")
    return create_app(load_config(path))


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [
            PackageLoader("coordinator.web"),
            PackageLoader("mash_common.web"),  # what both apps share: the chart macro
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.context_processor(_template_context)


def _template_context() -> dict[str, Any]:
    config = current_coordinator().config
    return {
        "cspNonce": csp_nonce(),
        "service_name": config.name,
        "current_user": current_user(),
        "may_open": may_open,
    }
