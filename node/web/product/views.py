"""The information product of a decided referral: the page, and the same page as a PDF.

Both come from `information_product`, which holds released items only and a signpost for every
held or signposted one, and audits each generation. The PDF is sent as a download, never cached.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue

from mash_common.web.pdf import render_pdf
from node import access
from node.access import Actor
from node.errors import ErrorCode, sentence
from node.referrals.common import ReferralError
from node.referrals.intake import CONCERN_CATEGORIES
from node.referrals.outcome import InformationProduct, information_product
from node.web.permissions import roles
from node.web.referrals.display import install_filters
from node.web.referrals.tags import install_tags
from node.web.refusals import PROBLEM
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user

blueprint = Blueprint("product", __name__, template_folder="templates")
install_filters(blueprint)
install_tags(blueprint)


@blueprint.get("/referrals/<id:referral_id>/information-product")
@roles(access.HUB_MEMBERS)
def show(referral_id: int) -> ResponseReturnValue:
    product = _generate(referral_id)
    if product is None:
        return redirect(url_for("referrals.show", referral_id=referral_id))
    return render_template(
        "product/show.html", product=product, referral_id=referral_id, pdf=False, **_labels()
    )


@blueprint.get("/referrals/<id:referral_id>/information-product.pdf")
@roles(access.HUB_MEMBERS)
def pdf(referral_id: int) -> ResponseReturnValue:
    product = _generate(referral_id)
    if product is None:
        return redirect(url_for("referrals.show", referral_id=referral_id))
    html = render_template(
        "product/show.html", product=product, referral_id=referral_id, pdf=True, **_labels()
    )
    response = make_response(render_pdf(html, Path(current_app.static_folder or "static")))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="information-product-{product.reference}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _generate(referral_id: int) -> InformationProduct | None:
    """The product (its generation audited), or None with the refusal flashed as a problem."""
    try:
        with unit_of_work() as db:
            return information_product(
                db, _actor(), referral_id, current_node().config.borough_name
            )
    except ReferralError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            abort(404)
        flash(sentence(str(exc)), PROBLEM)
        return None


def _labels() -> dict[str, object]:
    return {"categories": CONCERN_CATEGORIES}


def _actor() -> Actor:
    user = current_user()
    if user is None:  # check_permission lets no one here unsigned
        raise RuntimeError("the information product was reached without a signed-in user")
    return user.actor
