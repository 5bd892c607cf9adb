"""The evaluation's charts, each with its data table: built from coordinator.evaluation.analysis
for the evaluation pages, a borough's page and the reports alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from coordinator.evaluation.analysis import Cell, Comparison, Figures, Stat
from coordinator.web.formatters import month as month_words
from mash_common.evaluation import FAMILIES, FEWER_THAN, RAGS, label
from mash_common.web import charts
from mash_common.web.charts import COLOURS, PALETTE, RAG_COLOURS, Series, Table

SUPPRESSED_NOTE = (
    f"Counts of {FEWER_THAN} are suppressed at the hubs: the picture leaves them out, and the "
    "table says how many there were."
)


def cell_text(cell: Cell, *, single: bool) -> str:
    """A count as a table shows it: one borough's suppressed count is "fewer than 5"; a sum
    says how many suppressed counts it leaves out."""
    if single:
        return FEWER_THAN if cell.suppressed and not cell.value else f"{cell.value:,}"
    if cell.suppressed:
        return f"{cell.value:,} + {cell.suppressed} under 5"
    return f"{cell.value:,}"


def stat_text(stat: Stat, places: int = 1) -> str:
    if stat.value is None:
        return "not sent (under 5)" if stat.suppressed else "–"
    return f"{stat.value:.{places}f}"


def share_text(part: Cell, whole: Cell) -> str:
    if not whole.value:
        return "–"
    return f"{100 * part.value / whole.value:.0f}%"


def _labels(figures: Figures) -> list[str]:
    return [f"{m:%b %y}" for m in figures.months]


def _single(figures: Figures) -> bool:
    return len(figures.boroughs) == 1


def contacts(figures: Figures, *, baseline: float | None = None, prefix: str = "") -> charts.Chart:
    single = _single(figures)
    contacts_series = figures.series("contacts.total", "all")
    referrals_series = figures.series("referrals.total", "all")
    series = [
        Series(
            "Contacts",
            [c.value if c.value or not c.suppressed else None for c in contacts_series],
            COLOURS["blue"],
        ),
        Series(
            "Referrals (an onward response)",
            [c.value if c.value or not c.suppressed else None for c in referrals_series],
            COLOURS["orange"],
        ),
    ]
    if baseline is not None:
        series.append(
            Series(
                "Contacts a month before go-live (baseline)",
                [baseline] * len(figures.months),
                COLOURS["grey"],
                dashed=True,
            )
        )
    rows = tuple(
        (
            month_words(m),
            cell_text(c, single=single),
            cell_text(r, single=single),
            share_text(r, c),
            str(figures.reports.get(m, 0)),
        )
        for m, c, r in zip(figures.months, contacts_series, referrals_series, strict=True)
    )
    return charts.line_chart(
        f"{prefix}contacts",
        "Contacts and referrals each month",
        "Contacts received and decisions with an onward response, month by month.",
        _labels(figures),
        series,
        Table(
            "Contacts and referrals each month",
            ("Month", "Contacts", "Referrals", "Referred", "Hubs reporting"),
            rows,
        ),
        note=SUPPRESSED_NOTE if single else "",
    )


def rag_mix(figures: Figures, *, prefix: str = "") -> charts.Chart:
    single = _single(figures)
    categories = [*RAGS, "not-rated"]
    series = [
        Series(label(rag), [c.value for c in figures.series("contacts.rag", rag)], RAG_COLOURS[rag])
        for rag in categories
    ]
    rows = tuple(
        (
            month_words(m),
            *(
                cell_text(figures.count("contacts.rag", rag, m), single=single)
                for rag in categories
            ),
        )
        for m in figures.months
    )
    return charts.stacked_bars(
        f"{prefix}rag-mix",
        "The RAG mix of contacts",
        "Contacts received each month by their red, amber or green rating.",
        _labels(figures),
        series,
        Table(
            "Contacts by RAG rating each month", ("Month", *(label(r) for r in categories)), rows
        ),
        note=SUPPRESSED_NOTE,
    )


def timeliness(figures: Figures, *, prefix: str = "") -> charts.Chart:
    single = _single(figures)
    series = []
    for rag in RAGS:
        values: list[float | None] = []
        for m in figures.months:
            decided = figures.count("decisions.rag", rag, m)
            within = figures.count("decisions.within_deadline", rag, m)
            values.append(100 * within.value / decided.value if decided.value else None)
        series.append(Series(label(rag), values, RAG_COLOURS[rag]))

    def shown(rag: str, m: dt.date) -> str:
        decided = figures.count("decisions.rag", rag, m)
        within = figures.count("decisions.within_deadline", rag, m)
        return f"{share_text(within, decided)} of {cell_text(decided, single=single)}"

    rows = tuple((month_words(m), *(shown(rag, m) for rag in RAGS)) for m in figures.months)
    return charts.line_chart(
        f"{prefix}timeliness",
        "Decisions made within the deadline",
        "The share of each month's decisions made by their RAG deadline, for each rating.",
        _labels(figures),
        series,
        Table(
            "Decisions within the deadline each month (share of the decisions made)",
            ("Month", *(label(r) for r in RAGS)),
            rows,
        ),
        unit="% within deadline",
        y_max=100,
        note="A share is of the decisions sent: suppressed counts of fewer than 5 are left out.",
    )


def turnaround(
    figures: Figures, baseline: dict[str, float] | None = None, *, prefix: str = ""
) -> charts.Chart:
    single = _single(figures)
    family = "turnaround.mean_working_days"
    series = [
        Series(
            f"{label(rag)}", [s.value for s in figures.stat_series(family, rag)], RAG_COLOURS[rag]
        )
        for rag in RAGS
    ]
    for rag in RAGS:
        if baseline and rag in baseline:
            series.append(
                Series(
                    f"{label(rag)} before go-live (baseline)",
                    [baseline[rag]] * len(figures.months),
                    RAG_COLOURS[rag],
                    dashed=True,
                )
            )
    head = ["Month", *(f"{label(r)} (decisions)" for r in RAGS)]
    rows = tuple(
        (
            month_words(m),
            *(
                f"{stat_text(figures.stat(family, rag, m))} "
                f"({cell_text(figures.count('decisions.rag', rag, m), single=single)})"
                for rag in RAGS
            ),
        )
        for m in figures.months
    )
    if baseline:
        rows = (
            *rows,
            (
                "Baseline (before go-live)",
                *(f"{baseline[r]:.1f}" if r in baseline else "–" for r in RAGS),
            ),
        )
    return charts.line_chart(
        f"{prefix}turnaround",
        "Time from contact to decision",
        "The mean time from contact to decision in working days, each month, for each rating, "
        "with the baseline from before go-live as a dashed line.",
        _labels(figures),
        series,
        Table("Mean working days from contact to decision", tuple(head), rows),
        unit="working days",
        note=""
        if single
        else "London-wide figures are the hubs' means weighted by their decisions.",
    )


def bar_family(
    figures: Figures, family: str, chart_id: str, *, limit: int = 12, title: str | None = None
) -> charts.Chart:
    single = _single(figures)
    info = FAMILIES[family]
    categories = [c for c in figures.categories(family)][:limit]
    totals = [figures.total(family, c) for c in categories]
    items = [
        (label(c), t.value, PALETTE[i % len(PALETTE)])
        for i, (c, t) in enumerate(zip(categories, totals, strict=True))
    ]
    texts = [cell_text(t, single=single) for t in totals]
    return charts.bar_list(
        chart_id,
        title or info.title,
        f"{info.description}, over the whole period.",
        items,
        Table(
            title or info.title,
            ("Category", "Over the period"),
            tuple(zip([i[0] for i in items], texts, strict=True)),
        ),
        value_text=texts,
    )


def repeats(figures: Figures, *, prefix: str = "") -> charts.Chart:
    single = _single(figures)
    rows = []
    values: list[float | None] = []
    for m in figures.months:
        repeat = figures.count("contacts.re_referral", "within-12-months", m)
        total = figures.count("contacts.total", "all", m)
        values.append(100 * repeat.value / total.value if total.value else None)
        rows.append(
            (
                month_words(m),
                cell_text(repeat, single=single),
                cell_text(total, single=single),
                share_text(repeat, total),
            )
        )
    return charts.line_chart(
        f"{prefix}repeats",
        "Repeat contacts",
        "The share of each month's contacts about a child or adult already named in a contact "
        "in the 12 months before.",
        _labels(figures),
        [Series("Repeat contacts, share of all contacts", values, COLOURS["purple"])],
        Table(
            "Repeat contacts each month",
            ("Month", "Repeat contacts", "All contacts", "Share"),
            tuple(rows),
        ),
        unit="% of contacts",
    )


def cross_borough(figures: Figures) -> Table:
    single = _single(figures)
    rows = []
    for family in ("checks.existence", "disclosures.requests"):
        for category in FAMILIES[family].categories:
            rows.append(
                (
                    f"{FAMILIES[family].title}: {label(category)}",
                    cell_text(figures.total(family, category), single=single),
                )
            )
    stat = figures.stat_over("disclosures.median_hours", "all")
    rows.append(("Median hours to answer a disclosure request", stat_text(stat)))
    return Table(
        "Cross-borough existence checks and disclosures over the period",
        ("Measure", "Over the period"),
        tuple(rows),
    )


def equality(figures: Figures) -> list[charts.Chart]:
    return [
        bar_family(figures, family, f"equality-{family.split('.')[1]}", limit=10)
        for family in (
            "equality.age_band",
            "equality.gender",
            "equality.ethnicity",
            "equality.disability",
        )
    ]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, places: int = 1) -> str:
    return "–" if value is None else f"{value:,.{places}f}"


def before_after(comparison: Comparison, *, prefix: str = "") -> charts.Chart:
    rows = [b for b in comparison.before_after]
    groups = [b.name for b in rows]
    series = [
        Series("Before go-live (baseline)", [b.baseline_days for b in rows], COLOURS["grey"]),
        Series("After go-live", [b.after.turnaround.value for b in rows], COLOURS["blue"]),
    ]
    table_rows = tuple(
        (
            b.name,
            f"{b.went_live:%b %Y}",
            _num(b.baseline_contacts, 0),
            _num(b.after.contacts_a_month, 0),
            _num(b.baseline_days),
            _num(b.before.turnaround.value),
            _num(b.after.turnaround.value),
            _num(b.days_change),
            _pct(b.after.within_share),
        )
        for b in rows
    )
    return charts.grouped_bars(
        f"{prefix}before-after",
        "Turnaround before and after each hub went live",
        "For each live hub, the mean working days from contact to decision in its pre-go-live "
        "baseline and since it went live.",
        groups,
        series,
        Table(
            "Each live hub before and after go-live",
            (
                "Hub",
                "Went live",
                "Contacts a month, baseline",
                "Contacts a month, since",
                "Working days, baseline",
                "Working days, node before go-live",
                "Working days, since",
                "Change",
                "Within deadline, since",
            ),
            table_rows,
        ),
        unit="working days",
        note="A hub without a baseline has no bar before go-live; enter one on its page.",
    )


def waves(comparison: Comparison, *, prefix: str = "") -> list[charts.Chart]:
    months = [f"Month {i + 1}" for i in range(comparison.months_after)]
    groups = (comparison.pilot, comparison.later)
    colours = (COLOURS["blue"], COLOURS["orange"])
    contacts_chart = charts.line_chart(
        f"{prefix}waves-contacts",
        "Contacts a hub a month, pilot waves against later ones",
        "Contacts a month for each hub, by month since it went live, for the pilot waves and "
        "for the later waves.",
        months,
        [
            Series(g.name, [m.contacts_a_month for m in g.by_month_since], colour)
            for g, colour in zip(groups, colours, strict=True)
        ],
        Table(
            "Contacts a hub a month by month since go-live",
            ("Month since go-live", *(f"{g.name} (hubs)" for g in groups)),
            tuple(
                (
                    name,
                    *(
                        f"{_num(g.by_month_since[i].contacts_a_month, 0)} ({g.by_month_since[i].hub_months})"
                        for g in groups
                    ),
                )
                for i, name in enumerate(months)
            ),
        ),
    )
    within_chart = charts.line_chart(
        f"{prefix}waves-within",
        "Decisions within the deadline, pilot waves against later ones",
        "The share of decisions made within their deadline, by month since go-live.",
        months,
        [
            Series(
                g.name,
                [
                    None if m.within_share is None else 100 * m.within_share
                    for m in g.by_month_since
                ],
                colour,
            )
            for g, colour in zip(groups, colours, strict=True)
        ],
        Table(
            "Decisions within the deadline by month since go-live",
            ("Month since go-live", *(g.name for g in groups)),
            tuple(
                (name, *(_pct(g.by_month_since[i].within_share) for g in groups))
                for i, name in enumerate(months)
            ),
        ),
        unit="% within deadline",
        y_max=100,
    )
    return [contacts_chart, within_chart]


def wave_table(comparison: Comparison) -> Table:
    groups = (comparison.pilot, comparison.later, *comparison.by_wave)
    return Table(
        f"Each group's first {comparison.months_after} months after go-live",
        (
            "Group",
            "Hubs",
            "Hub-months",
            "Contacts a hub a month",
            "Referred",
            "Within deadline",
            "Mean working days",
            "Interventions per 100 contacts",
            "Repeat contacts",
        ),
        tuple(
            (
                g.name,
                str(len(g.boroughs)),
                str(g.measures.hub_months),
                _num(g.measures.contacts_a_month, 0),
                _pct(g.measures.referral_share),
                _pct(g.measures.within_share),
                _num(g.measures.turnaround.value),
                _num(g.measures.interventions_per_100),
                _pct(g.measures.repeat_share),
            )
            for g in groups
        ),
    )


def reports_table(
    figures: Figures, names: dict[str, str], received: Sequence[tuple[str, str, str, str]]
) -> Table:
    return Table(
        "Reports received from the hubs",
        ("Borough", "First month", "Latest month", "Reports"),
        tuple(received),
    )
