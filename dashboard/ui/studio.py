"""RFM studio widgets: explain a customer, migration, backtest and clusters, one tab each."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dashboard import export, formatting, ui
from dashboard.charts import rfm_charts
from dashboard.rfm import analysis, backtest, cut_points, explain, migration, schemes
from dashboard.ui import customer_base, predictions, progress, session
from dashboard.ui import segments as ui_segments
from dashboard.ui.text import escape_markdown

if TYPE_CHECKING:
    from dashboard.rfm.clustering import Clustering


def get_migration(
    selection: ui.Selection, scoring: cut_points.ScoringSpec, date_from: dt.date, date_to: dt.date
) -> migration.Migration:
    """Return the segments at both dates, computed once per session and settings."""

    def load() -> migration.Migration:
        with st.spinner("Segmenting customers at both dates…"):
            return migration.load_migration(
                ui.workspace(), selection.dataset, date_from, date_to, scoring
            )

    return session.cached(
        "migration",
        (selection.dataset, ui.dataset_version(selection.dataset), date_from, date_to, scoring),
        load,
        close=lambda held: held.backend.disconnect(),
    )


def get_backtest(
    selection: ui.Selection, scoring: cut_points.ScoringSpec, as_of: dt.date, horizon_days: int
) -> backtest.Backtest:
    """Return the backtest for these settings, computed once per session and settings."""

    def run() -> backtest.Backtest:
        with st.spinner("Segmenting customers at the past date…"):
            return backtest.run_backtest(
                ui.workspace(), selection.dataset, as_of, horizon_days, scoring
            )

    return session.cached(
        "backtest",
        (selection.dataset, ui.dataset_version(selection.dataset), as_of, horizon_days, scoring),
        run,
    )


def get_clusters(
    base: analysis.CustomerBase, cuts: cut_points.Cuts, scheme: schemes.Scheme, compute: bool
) -> Clustering | None:
    """Return the clusters for the base, cuts and scheme if computed (now when ``compute``)."""
    # scikit-learn takes seconds to import; only sessions that cluster pay for it.
    from dashboard.rfm import clustering

    key = (session.held_key(customer_base.BASE), cuts, scheme)
    if not compute and session.held_key("clusters") != key:
        return None

    def fit() -> Clustering:
        with progress.show_steps("Finding clusters…") as step:
            return clustering.cluster_customers(base, cuts, scheme, step)

    try:
        return session.cached("clusters", key, fit)
    except clustering.ClusteringError as exc:
        st.warning(escape_markdown(exc))
        return None


def explain_customer(
    selection: ui.Selection, base: analysis.CustomerBase, cuts: cut_points.Cuts
) -> None:
    """A customer id or email input, then why that customer is in their segment, and their
    predictions when the predictions box is ticked (``ui_segments.choose_predictions``)."""
    key = st.text_input("Customer id or email", help="Exact match; case does not matter.")
    predicted = ui_segments.choose_predictions(selection)
    if not key.strip():
        return
    found = explain.explain_customer(base, cuts, selection.scheme, key, ui.workspace(), predicted)
    if found is None:
        st.warning(
            f"No customer has the id or email '{escape_markdown(key)}' on {selection.as_of}."
        )
    elif found:
        show_explanation(found, cuts, selection.currency)


def show_explanation(found: dict[str, object], cuts: cut_points.Cuts, currency: str | None) -> None:
    """Draw one explained customer: segment, the rule step by step, measures and cut points."""
    st.subheader(escape_markdown(f"{found['customer_id']}: {found['segment'] or 'not scored'}"))
    if len(found["matches"]) > 1:
        st.caption(escape_markdown("Also matching: " + ", ".join(found["matches"][1:])))
    st.markdown("\n".join(f"- {escape_markdown(line)}" for line in found["reasons"]))
    measures = found["measures"]
    columns = st.columns(3)
    columns[0].metric("Days since last order", formatting.format_count(measures["recency_days"]))
    columns[1].metric("Valid orders", formatting.format_count(measures["frequency"]))
    columns[2].metric("Net revenue", formatting.format_money(measures["monetary"], currency))
    st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")
    if found.get("predictions") is not None:
        show_customer_prediction(found["predictions"], currency)


def show_customer_prediction(predicted: dict[str, object], currency: str | None) -> None:
    """Draw one customer's predicted fields (``explain.describe_prediction``), or the reason
    there is no prediction, over the Predictions page's horizon and churn window."""
    settings = predictions.get_prediction_settings()
    st.markdown(f"**Predictions, next {settings.horizon_days:,} days**")
    if predicted.get("prediction_note"):
        st.info(escape_markdown(predicted["prediction_note"]))
        return
    low, high = predicted["predicted_clv_low"], predicted["predicted_clv_high"]
    band = (
        f"range {formatting.format_money(low, currency)} to "
        f"{formatting.format_money(high, currency)}"
        if low is not None and high is not None
        else "no range (the fit has no standard errors)"
    )
    next_order = predicted["expected_next_order_on"]
    figures = [
        ("Repeat purchases", formatting.format_count(predicted["repeat_purchases"]), None),
        ("Probability alive", formatting.format_percent(predicted["p_alive"]), None),
        ("Expected orders", f"{predicted['expected_orders']:.2f}", None),
        (
            "Expected order value",
            formatting.format_money(predicted["expected_order_value"], currency),
            None,
        ),
        ("Predicted CLV", formatting.format_money(predicted["predicted_clv"], currency), band),
        ("Historic CLV", formatting.format_money(predicted["historic_clv"], currency), None),
        ("Total CLV", formatting.format_money(predicted["total_clv"], currency), None),
        (
            f"Churn risk (no order in {settings.churn_days:,} days)",
            formatting.format_percent(predicted["churn_risk"]),
            f"{predicted['churn_band']} risk",
        ),
        (
            "Expected next order",
            "—" if next_order is None else f"{next_order:%d %b %Y}",
            None if next_order is not None else "Probably inactive (alive below 50 %)",
        ),
    ]
    for start in range(0, len(figures), 3):
        for column, (label, value, note) in zip(
            st.columns(3), figures[start : start + 3], strict=False
        ):
            column.metric(label, value)
            if note:
                column.caption(escape_markdown(note))


def show_migration(selection: ui.Selection, scoring: cut_points.ScoringSpec) -> None:
    """Two dates, how customers moved between segments, and the movers as a CSV download."""
    scheme, currency = selection.scheme, selection.currency
    first, last = selection.overview.first_order_on, selection.overview.last_order_on
    left, right = st.columns(2)
    date_to = right.date_input("Second date", selection.as_of, first, last, key="move_to")
    default_from = max(first, date_to - dt.timedelta(days=migration.DEFAULT_GAP_DAYS))
    date_from = left.date_input("First date", default_from, first, last, key="move_from")
    moved = get_migration(selection, scoring, date_from, date_to)
    transitions = migration.summarise_transitions(moved)
    show_move_counts(migration.count_moves(transitions), currency)
    measure = st.radio(
        "Show",
        ["customers", "revenue_to"],
        horizontal=True,
        format_func={"customers": "Customers", "revenue_to": "Revenue"}.get,
    )
    matrix = migration.pivot_transitions(transitions, scheme, measure)
    st.plotly_chart(rfm_charts.plot_transition_heatmap(matrix), width="stretch")
    st.plotly_chart(
        rfm_charts.plot_migration_sankey(transitions, migration.order_segments(scheme), measure),
        width="stretch",
    )
    labels = ["Any segment", *migration.order_segments(scheme)]
    left, right = st.columns(2)
    segment_from = left.selectbox("Moved from", labels)
    segment_to = right.selectbox("Moved to", labels)
    movers = migration.list_movers(
        moved,
        None if segment_from == labels[0] else segment_from,
        None if segment_to == labels[0] else segment_to,
    )
    st.download_button(
        f"Download {len(movers):,} customers who moved (CSV)",
        export.to_csv_bytes(movers),
        file_name=f"{selection.dataset}-moved-{date_from}-{date_to}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    offer_segment_changes(selection.dataset, moved)


def offer_segment_changes(dataset: str, moved: migration.Migration) -> None:
    """A segment and entered/left, then who entered or left it between the dates as a CSV.

    The win-back advice is to act when a customer enters a segment, so this list is the one to
    send; it comes from the same per-customer table as the matrix above.
    """
    left, right = st.columns(2)
    segment = left.selectbox(
        "Segment", migration.order_segments(moved.scheme), key="move_change_segment"
    )
    direction = right.radio(
        "Customers who", ["entered", "left"], horizontal=True, key="move_change_direction"
    )
    changes = migration.list_segment_changes(moved, segment, direction)
    name = segment.lower().replace(" ", "-")
    st.download_button(
        f"Download {len(changes):,} customers who {direction} {segment} (CSV)",
        export.to_csv_bytes(changes),
        file_name=f"{dataset}-{direction}-{name}-{moved.date_from}-{moved.date_to}.csv",
        mime="text/csv",
        on_click="ignore",
    )


def show_move_counts(counts: dict[str, float], currency: str | None) -> None:
    """Draw how many customers changed segment between the dates and their revenue."""
    columns = st.columns(2)
    columns[0].metric(
        "Customers who changed segment",
        f"{counts['customers_moved']:,} of {counts['customers']:,}",
    )
    columns[1].metric(
        "Their revenue at the second date",
        formatting.format_money(counts["revenue_moved"], currency),
        f"{counts['revenue_moved'] / counts['revenue']:.1%} of revenue"
        if counts["revenue"]
        else None,
        delta_color="off",
    )


def show_backtest(selection: ui.Selection, scoring: cut_points.ScoringSpec) -> None:
    """A past date and a follow-up period, then what each segment did in that period."""
    first, last = selection.overview.first_order_on, selection.overview.last_order_on
    days = st.number_input("Follow-up period (days)", 1, 730, backtest.DEFAULT_HORIZON_DAYS)
    default_as_of = max(first, last - dt.timedelta(days=int(days)))
    as_of = st.date_input("Segments as of", default_as_of, first, last, key="backtest_as_of")
    result = get_backtest(selection, scoring, as_of, int(days))
    show_backtest_notes(result)
    st.plotly_chart(rfm_charts.plot_repeat_rates(result.table), width="stretch")
    st.dataframe(
        result.table,
        hide_index=True,
        width="stretch",
        column_config=backtest_column_config(selection.currency),
    )


def show_backtest_notes(result: backtest.Backtest) -> None:
    """Warn when the data ends inside the follow-up period; say how far segments differ and
    who counts."""
    if not result.complete:
        st.warning(
            f"The data ends on {result.data_end}, before the follow-up period does "
            f"({result.horizon_end}): the figures cover only part of it."
        )
    st.caption(
        f"{backtest.describe_separation(result.table)} Customers count from their first order "
        f"on, so nobody who first ordered after {result.as_of} is in the table; prospects had "
        "no valid order by then, so their row shows first orders instead of repeat orders."
    )


def show_clusters(
    selection: ui.Selection, base: analysis.CustomerBase, cuts: cut_points.Cuts
) -> None:
    """A "Find clusters" button, then the k-means clusters beside the RFM segments."""
    st.caption(
        "k-means on log-scaled, standardised R, F and M, fitted on at most 20,000 customers; k "
        "from 2 to 8 chosen by the silhouette on 5,000 of them. The same data gives the same "
        "clusters, kept for this session until the data, cut points or scheme change."
    )
    clusters = get_clusters(base, cuts, selection.scheme, st.button("Find clusters"))
    if clusters is None:
        return
    st.metric("Clusters (best silhouette)", clusters.k)
    st.dataframe(clusters.silhouettes, hide_index=True)
    st.dataframe(
        clusters.centres,
        hide_index=True,
        width="stretch",
        column_config=centre_column_config(selection.currency),
    )
    st.markdown("**Customers per RFM segment and cluster**")
    st.dataframe(
        clusters.crosstab, width="stretch", column_config=count_column_config(clusters.crosstab)
    )
    st.download_button(
        "Download customers with their cluster (CSV)",
        export.to_csv_bytes(clusters.members),
        file_name=f"{selection.dataset}-clusters.csv",
        mime="text/csv",
        on_click="ignore",
    )


def backtest_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the backtest table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment at the date"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "repeat_customers": st.column_config.NumberColumn(
            "Ordered again",
            format="localized",
            help="Customers who had ordered by the date and ordered in the period.",
        ),
        "repeat_rate": st.column_config.NumberColumn(
            "Repeat rate", format="percent", help="Of the customers who had ordered by the date."
        ),
        "converted_customers": st.column_config.NumberColumn(
            "First order",
            format="localized",
            help="Prospects (no valid order by the date) who placed one in the period.",
        ),
        "conversion_rate": st.column_config.NumberColumn(
            "Conversion rate", format="percent", help="Of the prospects at the date."
        ),
        "orders": st.column_config.NumberColumn("Orders in the period", format="localized"),
        "revenue": st.column_config.NumberColumn(f"Revenue in the period{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
    }


def count_column_config(table: pd.DataFrame) -> dict[str, object]:
    """Whole numbers with thousands separators in every column of a table of counts."""
    return {
        str(column): st.column_config.NumberColumn(str(column), format="localized")
        for column in table.columns
    }


def centre_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the cluster centres table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "cluster": st.column_config.TextColumn("Cluster"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "recency_days": st.column_config.NumberColumn(
            "Centre: days since last order", format="%.0f"
        ),
        "frequency": st.column_config.NumberColumn("Centre: orders", format="%.1f"),
        "monetary": st.column_config.NumberColumn(f"Centre: net revenue{unit}", format=money),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
    }
