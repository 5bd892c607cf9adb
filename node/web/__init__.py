"""The hub node's web UI: `create_app(config)` builds the Flask app that serves one node."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from mash_common.web import STATIC_FOLDER
from mash_common.web.security import csp_nonce, install_headers
from node.access import AccessDenied
from node.config import NodeConfig, load_config
from node.runtime import Node
from node.web import fields
from node.web.converters import CONVERTERS
from node.web.errors import register_error_handlers
from node.web.formatters import ROLE_NAMES
from node.web.permissions import check_permission, handle_access_denied, may_open
from node.web.services import current_node, install
from node.web.sessions import CACHEABLE_ENDPOINTS, configure_cookie, current_user, identify_user

CONFIG_ENVIRONMENT = "MASH_NODE_CONFIG"
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(config: NodeConfig, *, testing: bool = False) -> Flask:
    """The web app for one node: the node opened once through its runtime (refusing a store
    that is behind this release), every page behind a permission check, CSRF protection on every
    form, and the security headers on every response."""
    node = Node.open(config, shared_writers=True)  # SQLite writes queue with the other workers
    # The built GOV.UK assets are shared with the coordinator (mash_common/web/static).
    app = Flask(__name__, static_folder=str(STATIC_FOLDER), static_url_path="/static")
    app.config.update(
        TESTING=testing,
        SECRET_KEY=node.keys.cookie_secret(),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        # The Referer check only works when browsers send a Referer; our Referrer-Policy is
        # no-referrer, so forms rely on the CSRF token and SameSite=Strict cookies instead.
        WTF_CSRF_SSL_STRICT=False,
    )
    install(app, node)
    configure_cookie(app, config.web)
    _configure_templates(app)
    fields.install(app)
    app.before_request(identify_user)  # first, so that even an error page knows who is signed in
    WTFormsHelpers().init_app(app)
    app.before_request(check_permission)
    # CSRFProtect checks in a before_request of its own, registered here after the permission
    # check: a user refused a page gets the audited 403 whether or not the request has a token.
    CSRFProtect().init_app(app)
    register_error_handlers(app)
    app.register_error_handler(AccessDenied, handle_access_denied)
    install_headers(app, hsts=config.web.secure_cookies, cacheable=CACHEABLE_ENDPOINTS)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """One blueprint per area of the hub's work:

    - `auth`: signing in with a password and a TOTP second factor (set up at first sign-in),
      and signing out; the only pages open to people who are not signed in.
    - `home`: the start page, saying who you are and linking the areas your role may use
      (and the favicon).
    - `search`: finding people in the hub's records and viewing one, with a purpose, audited:
      your agency's records in full, other agencies' only as counts.
    - `subjects`: reviewing candidate links between subjects (confirm, reject) and undoing merges.
    - `referrals`: the front door: the queue by time left, recording a contact (its people linked
      to their hub subjects), and the referral page with triage, lawful basis, decision, timeline.
    - `research`: an agency professional's research: their agency's tasks, its records on a
      referral's people, contributions, and the release decision on each item.
    - `product`: the information product of a decided referral, as a page and a PDF (audited).
    - `disclosures`: asking another borough for what it holds on a referral's subject, and
      answering other boroughs' requests: the incoming queue, the local match, each agency's
      decisions on its items, the manager's answer.
    - `cumulative_harm`: a cumulative-harm flag explained (the rule, the events that raised it,
      each with its agency and date) and its dismissal with a reason, for the MASH manager.
    - `assessment`: the partnership's strategic assessment and problem profiles (aggregates for a
      period and area, small counts suppressed) as pages and HTML, PDF and CSV exports, for the
      MASH manager and the partnership analyst.
    - `admin`: the users and agencies of the hub, read only, for administrators and auditors.
    - `audit`: the audit log's state and a verification of the whole log, for the same.
    """
    from node.web.admin.views import blueprint as admin
    from node.web.assessment.views import blueprint as assessment
    from node.web.audit.views import blueprint as audit
    from node.web.auth.views import blueprint as auth
    from node.web.cumulative_harm.views import blueprint as cumulative_harm
    from node.web.disclosures.views import blueprint as disclosures
    from node.web.home.views import blueprint as home
    from node.web.product.views import blueprint as product
    from node.web.referrals.views import blueprint as referrals
    from node.web.research.views import blueprint as research
    from node.web.search.views import blueprint as search
    from node.web.subjects.views import blueprint as subjects

    app.url_map.converters.update(CONVERTERS)  # `<id:...>` in routes: before any route is added
    for blueprint in (
        auth,
        home,
        search,
        subjects,
        referrals,
        research,
        disclosures,
        product,
        cumulative_harm,
        assessment,
        admin,
        audit,
    ):
        app.register_blueprint(blueprint)


def app_from_environment() -> Flask:
    """The app for the node whose configuration file `$MASH_NODE_CONFIG` names (for WSGI servers)."""
    path = os.environ.get(CONFIG_ENVIRONMENT)
    if not path:
        raise RuntimeError(f"set {CONFIG_ENVIRONMENT} to the node's configuration file")
    return create_app(load_config(path))


def _configure_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [
            PackageLoader("node.web"),
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
    config = current_node().config
    return {
        "cspNonce": csp_nonce(),
        "borough_name": config.borough_name,
        "service_name": f"{config.borough_name} MASH",
        "current_user": current_user(),
        "may_open": may_open,
        "role_names": ROLE_NAMES,
    }
