"""What each hub costs and who pays: the comparative investment across London's boroughs (the
police cost and each partner's contribution), and the programme's settings (the police cost range,
when a milestone turns amber), which editors change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from coordinator import access
from coordinator.errors import ChangedSince, DomainError
from coordinator.rollout import plan, read
from coordinator.web.fields import NumberField, VersionField
from coordinator.web.formatters import pounds
from coordinator.web.permissions import roles
from coordinator.web.refusals import error_summary, form_errors, show_refusal
from coordinator.web.services import reading, unit_of_work
from coordinator.web.sessions import current_user
from mash_common.web import charts

blueprint = Blueprint("funding", __name__, template_folder="templates")


class SettingsForm(FlaskForm):
    version = VersionField()
    police_cost_min = NumberField("Lowest police cost of a hub, a year", description="In pounds")
    police_cost_max = NumberField("Highest police cost of a hub, a year", description="In pounds")
    amber_days = NumberField(
        "Days before its due date a milestone turns amber",
        description="A milestone not yet done and due within this many days is shown as due soon",
    )


@blueprint.get("/funding")
@roles(access.READERS)
def index() -> ResponseReturnValue:
    with reading() as session:
        rows = read.investment(session)
        settings = read.settings(session)
    chart = charts.stacked_bars(
        "investment",
        "What each hub costs a year, and who pays",
        "For each borough with funding recorded, the police cost and the partners' "
        "contributions a year, stacked.",
        [r.name[:3].upper() if len(r.name) > 12 else r.name for r in rows],
        [
            charts.Series("Police", [r.police for r in rows], charts.COLOURS["dark-blue"]),
            charts.Series("Partners", [r.partner_total for r in rows], charts.COLOURS["turquoise"]),
        ],
        charts.Table(
            "Funding a year by borough",
            ("Borough", "Police", "Partners", "Total", "Partners' share"),
            tuple(
                (
                    r.name,
                    pounds(r.police),
                    pounds(r.partner_total),
                    pounds(r.total),
                    f"{100 * r.partner_total / r.total:.0f}%" if r.total else "–",
                )
                for r in rows
            ),
        ),
        unit="£ a year",
    )
    police = sum(r.police for r in rows)
    partners = sum(r.partner_total for r in rows)
    user = current_user()
    return render_template(
        "funding/index.html",
        rows=rows,
        investment_chart=chart,
        settings=settings,
        police=police,
        partners=partners,
        editor=user is not None and access.permits(access.require_editor, user.actor),
    )


@blueprint.route("/settings", methods=["GET", "POST"])
@roles(access.EDITORS)
def settings() -> ResponseReturnValue:
    with reading() as session:
        current = read.settings(session)
    form = SettingsForm(
        data=None
        if request.method == "POST"
        else {
            "version": str(current.version),
            "police_cost_min": current.police_cost_min,
            "police_cost_max": current.police_cost_max,
            "amber_days": current.amber_days,
        }
    )
    conflict = None
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        try:
            with unit_of_work() as session:
                plan.update_settings(
                    session,
                    user.actor,
                    form.version.version or 0,
                    form.police_cost_min.number,  # type: ignore[arg-type]
                    form.police_cost_max.number,  # type: ignore[arg-type]
                    form.amber_days.number,  # type: ignore[arg-type]
                )
        except ChangedSince as exc:
            conflict = exc
            form.version.data = str(exc.version)
            form_errors(form).append(exc.message)
            with reading() as session:
                current = read.settings(session)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            flash("The programme settings are saved", "success")
            return redirect(url_for(".index"))
    return render_template(
        "funding/settings.html",
        form=form,
        current=current,
        errors=error_summary(form),
        conflict=conflict,
    )
