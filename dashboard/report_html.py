"""The report to share: one self-contained HTML file of the store (docs/report.md).

The figures come from the engine functions the pages and ``report`` already use
(``reports.build_report``, ``analysis.segment_summary``, ``pipeline.score_customers``); this
module only lays them out. Plotly's JavaScript is embedded once, so the file opens with no server
and no network; every text from the data goes through ``html.escape``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboard import engines, formatting, order_rules
from dashboard.acquisition import reports
from dashboard.behaviour import scale
from dashboard.behaviour.feature_table import FeatureParams
from dashboard.charts import acquisition_charts, rfm_charts
from dashboard.playbook import PlaybookEntry, find_entry, find_saved_entry
from dashboard.predict import pipeline
from dashboard.predict.model_errors import ModelFitError
from dashboard.rfm import analysis, cut_points, schemes, segments

# How many segments (highest SCALE score first) get their playbook entry in the report.
TOP_SEGMENTS = 3
SCALE_NOTE = (
    "Ranked by SCALE (Size, Currency, Access, Love, Early adoption; docs/behaviour.md §6) with "
    "every letter weighted 1 and Love 5 for every segment, so your own preference plays no part; "
    "set weights and Love under 'Prioritise segments (SCALE)' on the Segments page."
)
# No plotly logo: it is a link to plotly's site, and the report loads nothing from outside.
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.stamp{color:#666;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.7rem 1rem;min-width:150px}
.card .label{color:#666;font-size:.85rem}.card .value{font-size:1.5rem;font-weight:600}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #e5e5e5;padding:.35rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f6f6f6}
.note{color:#555;font-style:italic}
.playbook{border-left:4px solid #4F8FB8;padding:.2rem 1rem;margin:1rem 0;background:#f7fafc}
"""


@dataclass(frozen=True)
class PredictionHeadline:
    """The predictions' store-wide figures: predicted revenue (CLV summed over the customers with
    a prediction) in the next ``horizon_days``, and the share of those customers in the High
    churn band (no order in ``churn_days``)."""

    customers: int
    predicted_revenue: float
    share_high_churn: float
    horizon_days: int
    churn_days: int


@dataclass(frozen=True)
class ReportContent:
    """Everything the HTML report shows.

    ``store``: ``reports.build_report``'s dict; ``summary``: segments.SUMMARY_COLUMNS rows of
    ``scheme`` (None when the segments cannot be computed, ``segment_note`` says why);
    ``predictions``: None when absent, ``prediction_note`` says why; ``workspace``: where the
    analyst's edited playbook entries are read from (None: the shipped entries); ``ranked``:
    ``scale.rank_rfm_segments`` of the scheme's groups with the default weights and Love (None:
    no playbook section).
    """

    dataset: str
    scheme: schemes.Scheme
    currency: str | None
    store: Mapping[str, object]
    summary: pd.DataFrame | None
    predictions: PredictionHeadline | None
    segment_note: str | None = None
    prediction_note: str | None = None
    workspace: Path | None = None
    ranked: pd.DataFrame | None = None


def summarise_predictions(
    scored: pd.DataFrame, settings: pipeline.PredictionSettings
) -> PredictionHeadline:
    """Return the headline of ``pipeline.score_customers``' rows (customer_id, predicted_clv,
    churn_band; customers without a prediction have a null predicted_clv and are left out)."""
    weights = segments.weigh_predictions(scored)
    customers = len(weights)
    return PredictionHeadline(
        customers=customers,
        predicted_revenue=float(weights.predicted_cents.sum()) / 100,
        share_high_churn=float(weights.high_churn.sum()) / customers if customers else 0.0,
        horizon_days=settings.horizon_days,
        churn_days=settings.churn_days,
    )


def find_currency(orders: ir.Table) -> str | None:
    """Return the one currency of the canonical ``orders`` table, or None (none or several)."""
    found = orders.filter(orders.currency.notnull()).select("currency").distinct().to_pandas()
    return formatting.single_currency(tuple(sorted(found.currency)))


def build_store_report(
    tables: engines.EngineTables,
    dataset: str,
    as_of: dt.date,
    scheme: schemes.Scheme,
    settings: reports.Settings,
    generated_at: dt.datetime,
    prediction_settings: pipeline.PredictionSettings | None = None,
    workspace: Path | None = None,
) -> str:
    """Return the HTML report of a dataset on any engine, as ``python -m dashboard report
    --format html`` writes it: quantile scores over all history up to ``as_of``, the predictions
    fitted with the "auto" model (absent, with the reason, when they cannot be fitted)."""
    prediction_settings = prediction_settings or pipeline.PredictionSettings()
    store = reports.build_report(tables, dataset, as_of, settings)
    currency = find_currency(tables.orders)
    summary, segment_note, headline, prediction_note = None, None, None, None
    ranked = None
    try:
        base = analysis.build_customer_base(tables, dataset, as_of, rules=settings.counting)
    except analysis.NoCustomerKeyError as exc:
        segment_note = prediction_note = str(exc)
    else:
        try:
            cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme, None))
            summary = analysis.segment_summary(base, cuts, scheme)
        finally:
            base.close()
        params = FeatureParams(counting=settings.counting, channel_rules=settings.rules)
        window = order_rules.Window(as_of=as_of)
        ranked = scale.build_rfm_scale(tables, window, scheme, cuts, params, currency)
        try:
            fit = pipeline.fit_predictions(tables, as_of, settings.counting, dataset=dataset)
            scored = pipeline.score_customers(tables, fit, prediction_settings).to_pandas()
            headline = summarise_predictions(scored, prediction_settings)
        except ModelFitError as exc:
            prediction_note = f"No predictions: {exc}"
    content = ReportContent(
        dataset,
        scheme,
        currency,
        store,
        summary,
        headline,
        segment_note,
        prediction_note,
        workspace,
        ranked,
    )
    return render_report(content, generated_at)


def load_report_figures(
    workspace: Path, dataset: str, as_of: dt.date, settings: reports.Settings
) -> dict[str, object]:
    """Return ``reports.build_report`` of the dataset on the configured engine (the app's
    loader of ``ReportContent.store``)."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return reports.build_report(tables, dataset, as_of, settings)


def load_rfm_scale(
    workspace: Path,
    dataset: str,
    window: order_rules.Window,
    scheme: schemes.Scheme,
    cuts: cut_points.Cuts,
    params: FeatureParams,
    currency: str | None,
) -> pd.DataFrame:
    """Return ``scale.build_rfm_scale`` of the dataset on the configured engine (the app's loader
    of ``ReportContent.ranked``)."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return scale.build_rfm_scale(tables, window, scheme, cuts, params, currency)


def render_report(content: ReportContent, generated_at: dt.datetime) -> str:
    """Return the report as one HTML document (plotly.js inline once, no external reference)."""
    figures = _FigureWriter()
    parts = [
        _render_headline(content, generated_at),
        _render_segments(content, figures),
        _render_channels(content, figures),
        _render_maturity(content, figures),
        _render_predictions(content),
        _render_warnings(content.store),
    ]
    title = html.escape(f"Store report: {content.dataset}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in parts if part)
        + "\n</body>\n</html>\n"
    )


class _FigureWriter:
    """Turns figures into HTML divs; the first one carries plotly.js, the others reuse it."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, figure: go.Figure) -> str:
        div = pio.to_html(
            figure,
            include_plotlyjs=self.written == 0,
            full_html=False,
            config=FIGURE_CONFIG,
        )
        self.written += 1
        return f'<div class="figure">{div}</div>'


def _text(value: object) -> str:
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(sentence: str) -> str:
    return f'<p class="note">{_text(sentence)}</p>'


def _render_cards(cards: Sequence[tuple[str, object]]) -> str:
    inner = "".join(
        f'<div class="card"><div class="label">{_text(label)}</div>'
        f'<div class="value">{_text(value)}</div></div>'
        for label, value in cards
    )
    return f'<div class="cards">{inner}</div>'


def _render_headline(content: ReportContent, generated_at: dt.datetime) -> str:
    totals = content.store["store"]
    money = content.currency
    customers = None
    if content.summary is not None:
        scored = content.summary[content.summary.segment != schemes.PROSPECTS]
        customers = int(scored.customers.sum())
    cards = (
        ("Customers with a valid order", formatting.format_count(customers)),
        ("Valid orders", formatting.format_count(totals["orders"])),
        ("Net revenue", formatting.format_money(totals["revenue"], money)),
        ("Average order value", formatting.format_money(totals["aov"], money)),
        ("Analysis date", content.store["as_of"]),
    )
    stamp = (
        f"Dataset {content.dataset} · analysis date {content.store['as_of']} · scheme "
        f"{content.scheme.name} ({content.scheme.key}) · generated at "
        f"{generated_at:%Y-%m-%d %H:%M %Z}".rstrip()
    )
    return (
        f"<h1>{_text('Store report: ' + content.dataset)}</h1>"
        f'<p class="stamp">{_text(stamp)}</p>'
        + _render_cards(cards)
        + _note(
            "Orders, revenue and AOV count every valid order up to the analysis date, guest "
            "orders included; customers are those with a valid order, as the segments count them."
        )
    )


def _render_segments(content: ReportContent, figures: _FigureWriter) -> str:
    heading = f"<h2>Segments ({_text(content.scheme.name)})</h2>"
    summary = content.summary
    if summary is None:
        return heading + _note(content.segment_note or "No segments.")
    money = content.currency
    rows = [
        (
            row.segment,
            formatting.format_count(row.customers),
            formatting.format_percent(row.share_customers),
            formatting.format_percent(row.share_revenue),
            formatting.format_money(None if pd.isna(row.aov) else row.aov, money),
            formatting.format_money(
                None if pd.isna(row.revenue_per_customer) else row.revenue_per_customer, money
            ),
        )
        for row in summary.itertuples(index=False)
    ]
    table = _table(
        ("Segment", "Customers", "% of customers", "% of revenue", "AOV", "Value per customer"),
        rows,
    )
    return (
        heading
        + table
        + figures.write(rfm_charts.plot_segment_shares(summary))
        + _render_playbook(content)
    )


def pick_top_segments(ranked: pd.DataFrame, top: int = TOP_SEGMENTS) -> list[str]:
    """Return the ``top`` segments, highest SCALE score first.

    In: ``scale.rank_rfm_segments`` output (ranked; groups with members, Prospects not in it).
    """
    return list(ranked.segment[:top])


def _render_scale(ranked: pd.DataFrame) -> str:
    def score(value: object) -> str:
        return "—" if pd.isna(value) else f"{float(value):.2f}"

    letters = [f"{letter}_score" for letter in scale.LETTERS]
    rows = [
        (row.segment, score(row.scale_score), *(score(getattr(row, c)) for c in letters))
        for row in ranked.itertuples(index=False)
    ]
    headers = ("Segment", "SCALE score", *(scale.LETTER_NAMES[x] for x in scale.LETTERS))
    return _table(headers, rows) + _note(SCALE_NOTE)


def _render_playbook(content: ReportContent) -> str:
    scheme, workspace, ranked = content.scheme, content.workspace, content.ranked
    if ranked is None:
        return ""
    entries = [
        (
            name,
            find_entry("rfm", scheme.key, name, scheme.segments)
            if workspace is None
            else find_saved_entry(
                workspace, content.dataset, "rfm", scheme.key, name, scheme.segments
            ),
        )
        for name in pick_top_segments(ranked)
    ]
    if not entries:
        return ""
    blocks = [_render_entry(name, entry) for name, entry in entries if entry is not None]
    missing = [name for name, entry in entries if entry is None]
    text = (
        f"<h3>What to do: the playbook of the top {len(entries)} segments by SCALE</h3>"
        + _render_scale(ranked)
        + "".join(blocks)
    )
    if missing:
        text += _note(f"No playbook entry for: {', '.join(missing)}.")
    return text


def _render_entry(segment: str, entry: PlaybookEntry) -> str:
    actions = "".join(f"<li>{_text(action)}</li>" for action in entry.actions)
    caution = f"<p><b>Caution.</b> {_text(entry.caution)}</p>" if entry.caution else ""
    return (
        f'<div class="playbook"><h4>{_text(segment)}</h4>'
        f"<p><b>Goal.</b> {_text(entry.goal)}</p><ul>{actions}</ul>"
        f"<p><b>Channel.</b> {_text(entry.channel)} · <b>Offer.</b> {_text(entry.offer)} · "
        f"<b>KPI.</b> {_text(entry.kpi)}</p>{caution}</div>"
    )


def _render_channels(content: ReportContent, figures: _FigureWriter) -> str:
    heading = "<h2>Acquisition channels</h2>"
    records = content.store["channels"]
    if not records:
        return heading + _note("No customer has a valid order, so no channel has customers.")
    table = pd.DataFrame(records)
    money = content.currency
    rows = [
        (
            row.channel,
            formatting.format_count(row.new_customers),
            formatting.format_percent(row.share_new_customers),
            formatting.format_money(row.revenue, money),
            formatting.format_percent(row.share_revenue),
            formatting.format_money(row.aov, money),
            formatting.format_percent(row.repeat_rate),
        )
        for row in table.itertuples(index=False)
    ]
    note = content.store.get("unattributed_note")
    return (
        heading
        + _table(
            (
                "Channel",
                "New customers",
                "% of new customers",
                "Revenue",
                "% of revenue",
                "AOV",
                "Repeat rate",
            ),
            rows,
        )
        + figures.write(acquisition_charts.plot_channel_shares(table))
        + (_note(str(note)) if note else "")
    )


def _render_maturity(content: ReportContent, figures: _FigureWriter) -> str:
    current = content.store["current_stage"]
    effort = pd.DataFrame(content.store["effort"])
    text = (
        f"<h2>Maturity: {_text(current['stage'])}</h2><p>{_text(current['paragraph'])}</p>"
        + _render_effort_verdict(current.get("effort"))
    )
    if effort.empty:
        return text
    last = effort.iloc[-1]
    rows = [
        ("Recommended for the stage", formatting.format_percent(last.recommended_retention_share)),
        (
            "Returning customers' share of revenue",
            formatting.format_percent(_missing_as_none(last.returning_share_revenue)),
        ),
        (
            "Returning customers' share of orders",
            formatting.format_percent(_missing_as_none(last.returning_share_orders)),
        ),
        (
            "Share of spend on retention",
            formatting.format_percent(_missing_as_none(last.retention_spend_share)),
        ),
    ]
    return (
        text
        + f"<p>Retention share in {_text(str(last.month)[:7])}:</p>"
        + _table(("Measure", "Share"), rows)
        + f"<p>{_text(current['clv_to_cac_text'])}</p>"
        + figures.write(acquisition_charts.plot_retention_effort(effort))
    )


def _render_effort_verdict(verdict: Mapping[str, object] | None) -> str:
    """The spend split, Direct signal and budget sentences of ``current_stage.effort``
    (``spend_effort.convert_to_record``), as a short list; nothing without it."""
    if not verdict:
        return ""
    direct = verdict.get("direct")
    sentences = [
        ("Spend", verdict["sentence"]),
        ("Direct", direct["sentence"] if direct else None),
        ("Budget", verdict["budget_sentence"]),
    ]
    items = "".join(
        f"<li><b>{_text(label)}.</b> {_text(sentence)}</li>"
        for label, sentence in sentences
        if sentence
    )
    return f'<h3>Effort for the stage</h3><ul class="effort">{items}</ul>'


def _missing_as_none(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _render_predictions(content: ReportContent) -> str:
    heading = "<h2>Predictions</h2>"
    headline = content.predictions
    if headline is None:
        return heading + _note(content.prediction_note or "No predictions.")
    cards = (
        (
            f"Predicted revenue, next {headline.horizon_days:,} days",
            formatting.format_money(headline.predicted_revenue, content.currency),
        ),
        (
            f"High churn risk (no order in {headline.churn_days:,} days)",
            formatting.format_percent(headline.share_high_churn),
        ),
        ("Customers with a prediction", formatting.format_count(headline.customers)),
    )
    return heading + _render_cards(cards)


def _render_warnings(store: Mapping[str, object]) -> str:
    warnings = store.get("warnings") or []
    if not warnings:
        return ""
    return "<h2>Warnings</h2>" + "".join(_note(str(w)) for w in warnings)
