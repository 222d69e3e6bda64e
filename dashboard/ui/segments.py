"""Segments-page widgets: cut sliders, the segment table, headline figures and downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import formatting, playbook, ui
from dashboard.behaviour import named_segments, segment_export
from dashboard.export import to_csv_bytes
from dashboard.predict.model_errors import ModelFitError
from dashboard.rfm import analysis, cut_points, schemes, segments, sensitivity
from dashboard.ui import customer_base, playbook_panel, predictions, session
from dashboard.ui.behaviour import feature_cache
from dashboard.ui.text import escape_markdown

SUGGESTED_FREQUENCY_CUTS = (2.0, 3.0, 5.0, 10.0)
# Headline labels: each says what it counts (docs/segments.md §5).
CUSTOMERS_LABEL = "Customers with orders in window"
PROSPECTS_LABEL = "Prospects (no valid order)"
REVENUE_LABEL = "Net revenue, orders in window"
AOV_LABEL = "Average order value, in window"
PREDICTIONS_LABEL = "Add predicted value and churn risk"
# The download's file choices: label -> segment_export format.
FILE_FORMATS = {
    "CSV": "csv",
    "Klaviyo list": "klaviyo",
    "Shopify tags": "shopify-tags",
    "Parquet": "parquet",
}
# The analyst's tick or untick of the predictions box, with the fit key it was made for.
PREDICTIONS_CHOICE = "show_predictions"
# Session keys of the segment change counter: the baseline cuts and the last move's count.
BASELINE = "cuts_baseline"
LAST_MOVE = "last_move_changes"


def _rising_defaults(values: tuple[float | None, ...], floor: float, step: float) -> list[float]:
    out: list[float] = []
    for value in values:
        candidate = round((floor if value is None else max(float(value), floor)) / step) * step
        if out and candidate <= out[-1]:
            candidate = out[-1] + step
        out.append(candidate)
    return out


def clamp_cut(values: list[float], index: int, wanted: float, step: float, upper: float) -> float:
    """Return ``wanted`` rounded to ``step`` and kept strictly between the neighbouring cuts.

    In: a measure's cut points (strictly rising) and the new value asked for cut ``index``.
    Out: the value within [cut below + step, cut above - step], the first cut going down to 0
    and the last up to ``upper``, so the cut points keep rising strictly.
    """
    lowest = values[index - 1] + step if index > 0 else 0.0
    highest = values[index + 1] - step if index + 1 < len(values) else upper
    return min(max(round(wanted / step) * step, lowest), highest)


def _keep_order(keys: list[str], index: int, changed: str, step: float, upper: float) -> None:
    # A move past a neighbour stops at the neighbour, so the cuts can never stop rising.
    values = [float(st.session_state[key]) for key in keys]
    value = clamp_cut(values, index, float(st.session_state[changed]), step, upper)
    st.session_state[keys[index]] = value
    st.session_state[_name_typed_key(keys[index])] = value


def _name_typed_key(slider_key: str) -> str:
    return f"{slider_key}_typed"


def cut_sliders(
    selection: ui.Selection, quantile: cut_points.Cuts, limits: dict[str, float]
) -> cut_points.Cuts:
    """Draw one slider per cut point (R, F, M in three columns) and return the chosen cuts.

    A move past a neighbouring cut stops one step short of it. Each recency slider has a number
    input beside it holding the same value, for setting an exact number of days.
    """
    n = selection.scheme.n_scores
    frequency_defaults = SUGGESTED_FREQUENCY_CUTS[-(n - 1) :] if n < 5 else SUGGESTED_FREQUENCY_CUTS
    specs = [
        ("recency", "R: days since last order", _rising_defaults(quantile.recency, 0, 1), 1.0),
        ("frequency", "F: orders", list(frequency_defaults), 1.0),
        ("monetary", "M: net revenue", _rising_defaults(quantile.monetary, 0, 1), 1.0),
    ]
    units = {"frequency": "orders", "monetary": selection.currency or "net revenue"}
    chosen: dict[str, tuple[float, ...]] = {}
    for column, (measure, title, defaults, step) in zip(st.columns(3), specs, strict=True):
        with column:
            st.markdown(f"**{title}**")
            upper = float(max(limits[measure], defaults[-1] + step))
            keys = [f"cut_{selection.dataset}_{n}_{measure}_{i}" for i in range(len(defaults))]
            for key, default in zip(keys, defaults, strict=True):
                st.session_state.setdefault(key, float(default))
            for i in range(len(keys)):
                score = n - i if measure == "recency" else i + 2
                label = f"{measure[0].upper()} {score}: " + (
                    "at most (days)" if measure == "recency" else f"at least ({units[measure]})"
                )
                if measure == "recency":
                    _draw_recency_cut(label, keys, i, step, upper)
                else:
                    _draw_cut_slider(st.container(), label, keys, i, step, upper)
            chosen[measure] = tuple(float(st.session_state[key]) for key in keys)
    return cut_points.validate_cuts(
        cut_points.Cuts(chosen["recency"], chosen["frequency"], chosen["monetary"])
    )


def _draw_cut_slider(
    where: DeltaGenerator, label: str, keys: list[str], index: int, step: float, upper: float
) -> None:
    """The slider of cut ``keys[index]`` in ``where`` (the page or a column), kept in order."""
    where.slider(
        label,
        min_value=0.0,
        max_value=upper,
        step=step,
        format="%.0f",
        key=keys[index],
        on_change=_keep_order,
        args=(keys, index, keys[index], step, upper),
    )


def _draw_recency_cut(label: str, keys: list[str], index: int, step: float, upper: float) -> None:
    key, typed = keys[index], _name_typed_key(keys[index])
    st.session_state[typed] = st.session_state[key]
    drag, exact = st.columns([3, 1], vertical_alignment="bottom")
    _draw_cut_slider(drag, label, keys, index, step, upper)
    exact.number_input(
        f"{label}, typed",
        min_value=0.0,
        max_value=upper,
        step=step,
        format="%.0f",
        key=typed,
        label_visibility="collapsed",
        on_change=_keep_order,
        args=(keys, index, typed, step, upper),
    )


def choose_predictions(selection: ui.Selection) -> pd.DataFrame | None:
    """A checkbox adding the predictions; return every customer's predictions when ticked.

    Until the analyst ticks or unticks it for this fit key (dataset, date, rules, model), it is
    ticked exactly when this session already holds the fit, so no page starts the expensive fit
    unasked; ticking it fits (with progress) using the Predictions page's model and settings.
    The choice is kept across pages. Out: ``pipeline.score_customers``' rows, or None. A dataset
    the models cannot be fitted on gets a warning with the reason, and None.
    """
    key = predictions.fit_key(selection)
    choice = st.session_state.get(PREDICTIONS_CHOICE)
    wanted = choice[1] if choice and choice[0] == key else predictions.has_prediction_fit(selection)
    # A widget's own key is dropped when another page runs, so it is set from the choice.
    widget = f"{PREDICTIONS_CHOICE}_widget"
    st.session_state[widget] = wanted
    st.checkbox(
        PREDICTIONS_LABEL,
        key=widget,
        on_change=_remember_predictions_choice,
        args=(key, widget),
        help="Predicted CLV and churn risk from the Predictions page's models and settings "
        "(horizon, churn window, discount rate). The first time, the models are fitted.",
    )
    if not wanted:
        return None
    try:
        return predictions.get_customer_predictions(selection)
    except ModelFitError as exc:
        st.warning(escape_markdown(f"No predictions: {exc}"))
        return None


def _remember_predictions_choice(key: object, widget: str) -> None:
    st.session_state[PREDICTIONS_CHOICE] = (key, bool(st.session_state[widget]))


def summary_column_config(
    currency: str | None, with_predictions: bool = False
) -> dict[str, object]:
    """Column labels and number formats of the segment table (shares shown as percentages);
    the predicted columns say the Predictions page's horizon and churn window."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    predicted: dict[str, object] = {}
    if with_predictions:
        settings = predictions.get_prediction_settings()
        horizon = f"next {settings.horizon_days:,} days"
        predicted = {
            "predicted_clv": st.column_config.NumberColumn(
                f"Predicted CLV, {horizon}{unit}", format=money
            ),
            "predicted_clv_per_customer": st.column_config.NumberColumn(
                f"Predicted CLV per customer, {horizon}{unit}", format=money
            ),
            "share_high_churn": st.column_config.NumberColumn(
                f"% High churn risk (no order in {settings.churn_days:,} days)", format="%.1f%%"
            ),
        }
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="%.1f%%"),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="%.1f%%"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Value per customer{unit}", format=money
        ),
        "avg_recency_days": st.column_config.NumberColumn("Avg. recency (days)", format="%.0f"),
        **predicted,
    }


def present_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Return the segment table for the screen: shares as percentages (0-100)."""
    shown = summary.assign(
        share_customers=summary.share_customers * 100, share_revenue=summary.share_revenue * 100
    )
    if "share_high_churn" in shown.columns:
        shown["share_high_churn"] = shown.share_high_churn * 100
    return shown


def warn_collapsed_bins(base: analysis.CustomerBase, cuts: cut_points.Cuts) -> None:
    """Say which scores ties made unreachable, with the one-time buyer share and a remedy."""
    collapsed = cut_points.collapsed_scores(cuts)
    if not collapsed:
        return
    lost = "; ".join(
        f"a {measure} score of {' or '.join(map(str, scores))}"
        for measure, scores in collapsed.items()
    )
    one_time = cut_points.share_one_time_buyers(base.measures)
    st.warning(
        f"Ties merged some quantile bins: no customer can get {lost}. "
        f"{formatting.format_percent(one_time)} of scored customers bought exactly once. "
        "Switch to custom cut points (for example frequency 2, 3, 5 and 10 orders) to separate "
        "them."
    )


def show_headline(summary: pd.DataFrame, base: analysis.CustomerBase, currency: str | None) -> None:
    """Four headline figures, each label saying what it counts, and one sentence on why other
    pages count differently."""
    scored = summary[summary.segment != schemes.PROSPECTS]
    columns = st.columns(4)
    columns[0].metric(CUSTOMERS_LABEL, formatting.format_count(scored.customers.sum()))
    columns[1].metric(
        PROSPECTS_LABEL,
        formatting.format_count(summary.customers.sum() - scored.customers.sum()),
    )
    columns[2].metric(REVENUE_LABEL, formatting.format_money(summary.revenue.sum(), currency))
    orders = scored.orders.sum()
    columns[3].metric(
        AOV_LABEL,
        formatting.format_money(scored.revenue.sum() / orders if orders else None, currency),
    )
    st.caption(describe_counting(base))


def describe_counting(base: analysis.CustomerBase) -> str:
    """Return the sentence that says what the Segments page counts and why the Data and Maturity
    pages show other totals."""
    window = (
        f"from {base.window.start:%d %b %Y} to {base.window.as_of:%d %b %Y}"
        if base.window.start
        else f"up to {base.window.as_of:%d %b %Y}"
    )
    outside = (
        f" ({formatting.format_count(base.customers_outside_window)} customers who bought only "
        "before the window are left out)"
        if base.customers_outside_window
        else ""
    )
    return (
        f"Segments counts the valid orders {window} under the sidebar's counting rules"
        f"{outside}, so its totals differ from the Data page (every loaded order and every "
        "customer on one) and from Maturity (every valid order of the store's life, guest "
        "orders included)."
    )


def explain_computation(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: cut_points.Cuts
) -> None:
    """An expander stating the scheme rule, what counts, the window and the cut points."""
    window = base.window
    with st.expander("How these numbers are computed"):
        st.markdown(f"**Scheme.** {escape_markdown(scheme.rule)}")
        st.markdown(
            f"**What counts.** {base.rules.describe()} Whether orders with a total of 0 count "
            "is the sidebar's 'Count zero-value orders as purchases'."
        )
        text = f"**Window.** Analysis date {window.as_of:%d %b %Y}; " + (
            f"orders since {window.start:%d %b %Y}." if window.start else "all history."
        )
        if base.customers_outside_window:
            text += (
                f" {base.customers_outside_window:,} customers bought only before the window "
                "and are left out."
            )
        st.markdown(text)
        st.markdown("**Cut points.** Each score and the rule that gives it:")
        st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")


def offer_segment_download(
    selection: ui.Selection,
    base: analysis.CustomerBase,
    cuts: cut_points.Cuts,
    summary: pd.DataFrame,
    predicted: pd.DataFrame | None = None,
) -> None:
    """Pick a segment (or everyone) and a file. CSV: the customers as the table counts them,
    formula-safe; with ``predicted`` (``pipeline.score_customers``' rows, as the table shows)
    each customer's predicted fields too. Klaviyo list, Shopify tags, Parquet: a segment's
    members from ``segment_export`` (as ``segments --format``), with their stamp."""
    st.subheader("Download customers")
    everyone = "All customers (prospects included)"
    choice = st.selectbox("Segment", [everyone, *summary.segment[summary.customers > 0]])
    segment = None if choice == everyone else choice
    if segment is not None:
        playbook_panel.show_rfm_entry(selection.scheme, segment)
    chosen = st.radio("File", list(FILE_FORMATS), horizontal=True, key="segment_file_format")
    fmt = FILE_FORMATS[chosen]
    if fmt != "csv":
        if segment is None:
            st.info(f"Choose a segment to download a {chosen} file.")
        else:
            offer_member_file(selection, segment, fmt)
        return
    count = (
        summary.customers.sum()
        if segment is None
        else summary.customers[summary.segment == segment].sum()
    )
    st.download_button(
        f"Download {formatting.format_count_of(count, 'customer')} (CSV)",
        session.defer_in_session(
            lambda: build_segment_file(base, cuts, selection.scheme, segment, predicted)
        ),
        file_name=f"{selection.dataset}-{(segment or 'all').lower().replace(' ', '-')}.csv",
        mime="text/csv",
        on_click="ignore",
    )


def offer_member_file(selection: ui.Selection, segment: str, fmt: str) -> None:
    """Download the members of RFM group ``segment`` in ``fmt`` (not csv) and the file's stamp.

    The members come from the Behaviour page's feature table with the page's scoring
    (``feature_cache.current_rfm``), so they are the CSV's; a Klaviyo list holds only those who
    accepted e-mail marketing unless the analyst ticks the box (``segment_export``).
    """
    features = feature_cache.get_feature_base(selection)
    rfm = feature_cache.current_rfm(selection)
    view = feature_cache.get_view(features, rfm)
    tag = None
    if fmt == "shopify-tags":
        tag = st.text_input("Tag to add", value=segment, key=f"segment_tag_{segment}")
    include = fmt in segment_export.CONSENT_COLUMNS and st.checkbox(
        "Include customers who did not accept e-mail marketing",
        key="segment_consent",
        help="Off by default: a list for an e-mail tool should hold only customers who accepted. "
        "Turning it on is recorded in the file's stamp and the server log.",
    )
    exported = segment_export.export_segment(
        view,
        named_segments.define_rfm_segment(selection.scheme, segment, rfm),
        fmt,
        selection.dataset,
        segment,
        features.window,
        tag=tag,
        include_without_consent=include,
        playbook=playbook.describe_named_segment(
            ui.workspace(), selection.dataset, "rfm", selection.scheme, segment
        ),
    )
    consent = segment_export.describe_consent(exported.stamp)
    if consent:
        st.caption(consent)
    file, stamp = st.columns(2)
    file.download_button(
        f"Download {formatting.format_count_of(int(exported.stamp['row_count']), 'row')} ({fmt})",
        exported.data,
        file_name=exported.file_name,
        mime=exported.mime,
        on_click="ignore",
        key="segment_member_file",
    )
    stamp.download_button(
        "File record (JSON)",
        exported.stamp_json(),
        file_name=exported.file_name + ".stamp.json",
        mime="application/json",
        help="The stamp of the file: dataset, segment, analysis date and window, row count, who "
        "was left out and why, columns, time of export and the definition.",
        on_click="ignore",
        key="segment_member_stamp",
    )


def build_segment_file(
    base: analysis.CustomerBase,
    cuts: cut_points.Cuts,
    scheme: schemes.Scheme,
    segment: str | None,
    predicted: pd.DataFrame | None,
) -> bytes:
    """The segment download: ``analysis.segment_members`` (one row per customer of ``segment``,
    or everyone) with ``segments.PREDICTION_FIELDS`` appended when predictions are shown, as a
    formula-safe CSV."""
    members = analysis.segment_members(base, cuts, scheme, segment)
    if predicted is not None:
        members = segments.attach_predictions(members, predicted)
    return to_csv_bytes(members)


def show_segment_changes(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: cut_points.Cuts
) -> None:
    """Say how many customers are in another segment than with the baseline cut points, and how
    many the last move alone changed; offer to make the current cut points the baseline.

    The baseline is the first cut points scored for this base and scheme (the quantiles, or the
    custom cut points the page opened with) until the user resets it; a new dataset, date or
    scheme starts over. The cut points are remembered for the studio (``get_scoring``).
    """
    context = customer_base.cut_context(scheme)
    previous = st.session_state.get(customer_base.LAST_CUTS)
    baseline = st.session_state.get(BASELINE)
    if baseline is None or baseline[0] != context:
        st.session_state[BASELINE] = baseline = (context, cuts)
        st.session_state.pop(LAST_MOVE, None)
    elif previous is not None and previous[0] == context and previous[1] != cuts:
        last = sensitivity.segment_changes(base, previous[1], cuts, scheme)
        st.session_state[LAST_MOVE] = (context, last.customers_changed)
    st.session_state[customer_base.LAST_CUTS] = (context, cuts)
    if baseline[1] == cuts:
        return
    changes = sensitivity.segment_changes(base, baseline[1], cuts, scheme)
    total = float(changes.transitions.revenue.sum())
    share = changes.revenue_changed / total if total else 0.0
    text = (
        f"{formatting.format_count_of(changes.customers_changed, 'customer')} "
        f"({formatting.format_percent(share)} of revenue) are in another segment than with the "
        "baseline cut points"
    )
    last_move = st.session_state.get(LAST_MOVE)
    if last_move is not None and last_move[0] == context:
        text += f"; the last move alone changed {formatting.format_count(last_move[1])}"
    info, reset = st.columns([4, 1], vertical_alignment="center")
    info.info(text + ".")
    reset.button(
        "Make these the baseline",
        key="reset_baseline",
        on_click=_reset_baseline,
        args=(context, cuts),
        help="Count changes from the current cut points on. The first baseline is the cut "
        "points the page opened with for this dataset, date and scheme.",
    )


def _reset_baseline(context: tuple[object, schemes.Scheme], cuts: cut_points.Cuts) -> None:
    st.session_state[BASELINE] = (context, cuts)
    st.session_state.pop(LAST_MOVE, None)
