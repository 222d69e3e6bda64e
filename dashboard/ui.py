"""The Streamlit side: session state, the shared sidebar and widgets the pages reuse.

This is the only module of the engine package that imports streamlit. Everything a user loads
or computes is kept in ``st.session_state`` (one per browser session), never in a process-wide
cache, so two sessions never see each other's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import (
    analysis,
    backtest,
    explain,
    formatting,
    ingest,
    migration,
    rfm,
    scheme_io,
    schemes,
    sensitivity,
    store,
)
from dashboard.export import to_csv_bytes
from dashboard.ingest.report import IngestError, IngestReport

if TYPE_CHECKING:
    from dashboard.clustering import Clustering

DEFAULT_DATASET_ENV = "SEGMENTS_DATASET"
LOG = logging.getLogger("dashboard")
KNOWN_ERRORS = (
    store.WorkspaceError,
    IngestError,
    rfm.CutsError,
    schemes.SchemeError,
    migration.MigrationError,
)
SUGGESTED_FREQUENCY_CUTS = (2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose: dataset, analysis date, window start and scheme."""

    dataset: str
    overview: analysis.DatasetOverview
    as_of: dt.date
    start: dt.date | None
    scheme: schemes.Scheme

    @property
    def currency(self) -> str | None:
        """The dataset's single currency, or None."""
        return formatting.single_currency(self.overview.currencies)


def workspace() -> Path:
    """Return the workspace directory (from $SEGMENTS_WORKSPACE or data/workspace)."""
    return store.resolve_workspace()


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Show known problems as one sentence and anything unexpected without a traceback."""
    try:
        yield
    except KNOWN_ERRORS as exc:
        st.error(str(exc))
    except Exception:
        LOG.exception("Unexpected error in the dashboard")
        st.error(
            "Something unexpected went wrong and the page could not finish. Nothing was changed; "
            "the details are in the server log."
        )


def dataset_version(name: str) -> int:
    """Return a number that changes whenever the dataset's file is written."""
    path = store.dataset_path(workspace(), name)
    return path.stat().st_mtime_ns if path.exists() else 0


def get_overview(name: str) -> analysis.DatasetOverview:
    """Return the dataset's headline facts, cached in this session until the file changes."""
    key = ("overview", name, dataset_version(name))
    if st.session_state.get("overview_key") != key:
        st.session_state["overview"] = analysis.describe_dataset(workspace(), name)
        st.session_state["overview_key"] = key
    return st.session_state["overview"]


def choose_dataset() -> str | None:
    """Sidebar dataset picker (the demo store preselected); None when the workspace is empty."""
    names = store.list_datasets(workspace())
    if not names:
        st.sidebar.info("No dataset yet: load a file on the Data page.")
        return None
    preferred = st.session_state.get("dataset") or os.environ.get(DEFAULT_DATASET_ENV, "demo")
    index = names.index(preferred) if preferred in names else 0
    name = st.sidebar.selectbox("Dataset", names, index=index, help="One store's data.")
    st.session_state["dataset"] = name
    return name


def render_sidebar() -> Selection | None:
    """Draw the shared sidebar (dataset, analysis date, window, scheme) and return the choice."""
    name = choose_dataset()
    if name is None:
        return None
    overview = get_overview(name)
    if overview.last_order_on is None:
        st.sidebar.warning("This dataset has no orders yet.")
        return None
    as_of = st.sidebar.date_input(
        "Analysis date",
        value=overview.last_order_on,
        min_value=overview.first_order_on,
        max_value=overview.last_order_on,
        key=f"as_of_{name}",
        help="Recency is counted back from this date; later orders are ignored.",
    )
    window = st.sidebar.selectbox(
        "Look-back window",
        ["All history", "Last 12 months", "Last 24 months"],
        key=f"window_{name}",
        help="Only orders inside the window count for frequency and revenue.",
    )
    months = {"Last 12 months": 12, "Last 24 months": 24}.get(window)
    start = as_of - dt.timedelta(days=round(months * 365.25 / 12) - 1) if months else None
    scheme = choose_scheme()
    if len(overview.currencies) > 1:
        st.sidebar.warning(
            "Orders are in several currencies ("
            + ", ".join(overview.currencies)
            + "); revenue figures add them up as they are."
        )
    return Selection(name, overview, as_of, start, scheme)


def get_customer_base(selection: Selection) -> analysis.CustomerBase:
    """Return the per-customer measures for the selection, computed once per session and key."""
    key = (selection.dataset, dataset_version(selection.dataset), selection.as_of, selection.start)
    if st.session_state.get("base_key") != key:
        with st.status("Computing per-customer measures…", expanded=False) as status:
            previous = st.session_state.pop("base", None)
            if previous is not None:
                previous.backend.disconnect()
            st.session_state["base"] = analysis.load_customer_base(
                workspace(), selection.dataset, as_of=selection.as_of, start=selection.start
            )
            st.session_state["base_key"] = key
            st.session_state.pop("quantile_key", None)
            status.update(label="Per-customer measures ready", state="complete")
    return st.session_state["base"]


def get_quantile_cuts(base: analysis.CustomerBase, scheme: schemes.Scheme) -> rfm.Cuts:
    """Return the quantile cut points of the base for the scheme, cached in this session."""
    key = (st.session_state.get("base_key"), scheme.key)
    if st.session_state.get("quantile_key") != key:
        st.session_state["quantile_cuts"] = analysis.resolve_cuts(base, scheme, "quantile")
        st.session_state["quantile_key"] = key
    return st.session_state["quantile_cuts"]


def _rising_defaults(values: tuple[float | None, ...], floor: float, step: float) -> list[float]:
    out: list[float] = []
    for value in values:
        candidate = floor if value is None else max(float(value), floor)
        if out and candidate <= out[-1]:
            candidate = out[-1] + step
        out.append(round(candidate / step) * step)
    return out


def cut_sliders(
    selection: Selection, quantile: rfm.Cuts, limits: dict[str, float]
) -> rfm.Cuts:
    """Draw one slider per cut point (R, F, M in three columns) and return the chosen cuts."""
    n = selection.scheme.n_scores
    frequency_defaults = SUGGESTED_FREQUENCY_CUTS[-(n - 1) :] if n < 5 else SUGGESTED_FREQUENCY_CUTS
    specs = [
        ("recency", "R: days since last order", _rising_defaults(quantile.recency, 0, 1), 1.0),
        ("frequency", "F: orders", list(frequency_defaults), 1.0),
        ("monetary", "M: net revenue", _rising_defaults(quantile.monetary, 0, 1), 1.0),
    ]
    chosen: dict[str, tuple[float, ...]] = {}
    for column, (measure, title, defaults, step) in zip(st.columns(3), specs, strict=True):
        with column:
            st.markdown(f"**{title}**")
            upper = max(limits[measure], defaults[-1] + step)
            values = []
            for i, default in enumerate(defaults):
                score = n - i if measure == "recency" else i + 2
                label = (
                    f"R = {score} if at most … days"
                    if measure == "recency"
                    else f"{measure[0].upper()} ≥ {score} from …"
                )
                values.append(
                    st.slider(
                        label,
                        min_value=0.0,
                        max_value=float(upper),
                        value=float(default),
                        step=step,
                        key=f"cut_{selection.dataset}_{n}_{measure}_{i}",
                    )
                )
            chosen[measure] = tuple(values)
    return rfm.validate_cuts(rfm.Cuts(chosen["recency"], chosen["frequency"], chosen["monetary"]))


def summary_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the segment table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
        "avg_recency_days": st.column_config.NumberColumn("Avg. days since last order", format="%.0f"),
    }


def save_upload(uploaded: UploadedFile) -> Path:
    """Write an uploaded file to this session's private temporary folder and return its path."""
    folder = st.session_state.get("upload_dir")
    if folder is None or not Path(folder).exists():
        folder = tempfile.mkdtemp(prefix="segments-upload-")
        st.session_state["upload_dir"] = folder
    # The browser-supplied name is reduced to its base name; the path is ours.
    target = Path(folder) / Path(uploaded.name).name
    target.write_bytes(uploaded.getbuffer())
    return target


def mapping_editor(headers: list[str]) -> dict[str, str]:
    """Let the analyst confirm or change the guessed column mapping of a generic orders file."""
    guessed = ingest.guess_mapping(headers)
    st.markdown("**Confirm the columns** (guessed from the header names):")
    mapping: dict[str, str] = {}
    options = ["— not in this file —", *headers]
    columns = st.columns(3)
    for i, (field, spec) in enumerate(ingest.ORDER_FIELDS.items()):
        guess = guessed.get(field)
        with columns[i % 3]:
            choice = st.selectbox(
                spec.label + (" (required)" if spec.required else ""),
                options,
                index=options.index(guess) if guess in options else 0,
                help=spec.description,
                key=f"map_{field}",
            )
        if choice != options[0]:
            mapping[field] = choice
    return mapping


def show_report(report: IngestReport) -> None:
    """Show an ingest report: counts, rejected rows grouped by reason, issues as a table."""
    if report.rows_rejected:
        st.warning(report.summary())
    else:
        st.success(report.summary())
    for note in report.notes:
        st.info(note)
    reasons = report.reason_counts()
    if reasons:
        st.markdown("**Rows not loaded, by reason**")
        st.dataframe(
            pd.DataFrame(reasons.most_common(), columns=["Reason", "Rows"]),
            hide_index=True,
            width="stretch",
        )
    issues = report.issues_frame()
    if not issues.empty:
        with st.expander(f"All {len(issues):,} row issues (line numbers count the header as line 1)"):
            st.dataframe(issues, hide_index=True, width="stretch")
        st.download_button(
            "Download the row issues (CSV)",
            to_csv_bytes(issues),
            file_name=f"ingest-report-{Path(report.file_name).stem}.csv",
            mime="text/csv",
        )


def choose_scheme() -> schemes.Scheme:
    """Sidebar scheme picker: the presets, then the custom schemes saved in the workspace."""
    saved = [scheme_io.CUSTOM_PREFIX + name for name in scheme_io.list_custom_schemes(workspace())]
    keys = [*schemes.PRESETS, *saved]
    key = st.sidebar.selectbox(
        "Segment scheme",
        keys,
        index=keys.index(schemes.DEFAULT_SCHEME),
        format_func=lambda key: (
            schemes.PRESETS[key].name
            if key in schemes.PRESETS
            else f"{key.removeprefix(scheme_io.CUSTOM_PREFIX)} (custom)"
        ),
        key="scheme",
    )
    if key in schemes.PRESETS:
        return schemes.PRESETS[key]
    return scheme_io.load_custom_scheme(workspace(), key.removeprefix(scheme_io.CUSTOM_PREFIX))


def _cut_context(scheme: schemes.Scheme) -> tuple[object, schemes.Scheme]:
    return (st.session_state.get("base_key"), scheme)


def show_segment_changes(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: rfm.Cuts
) -> None:
    """Remember ``cuts`` and say how many customers changed segment at the last move of the cuts.

    The comparison is kept until the cuts move again; a new dataset, date or scheme starts over.
    """
    context = _cut_context(scheme)
    previous = st.session_state.get("last_cuts")
    if previous is None or previous[0] != context:
        st.session_state.pop("last_change", None)
    elif previous[1] != cuts:
        changes = sensitivity.segment_changes(base, previous[1], cuts, scheme)
        total = float(changes.transitions.revenue.sum())
        share = changes.revenue_changed / total if total else 0.0
        st.session_state["last_change"] = (context, changes.customers_changed, share)
    st.session_state["last_cuts"] = (context, cuts)
    change = st.session_state.get("last_change")
    if change is not None:
        customers, share = formatting.format_count(change[1]), formatting.format_percent(change[2])
        st.info(f"{customers} customers ({share} of revenue) changed segment since the last move.")


def studio_scoring(
    selection: Selection, base: analysis.CustomerBase
) -> tuple[migration.Scoring, rfm.Cuts]:
    """Return the scoring the Segments page last used (quantiles unless sliders moved) and cuts.

    The same scoring is applied at every date of the migration and the backtest.
    """
    quantile = get_quantile_cuts(base, selection.scheme)
    last = st.session_state.get("last_cuts")
    cuts = last[1] if last is not None and last[0] == _cut_context(selection.scheme) else quantile
    custom = cuts != quantile
    window_days = (selection.as_of - selection.start).days + 1 if selection.start else None
    scoring = migration.Scoring(
        selection.scheme,
        "custom" if custom else "quantile",
        cuts if custom else None,
        base.rules,
        window_days,
    )
    return scoring, cuts


def get_migration(
    selection: Selection, scoring: migration.Scoring, date_from: dt.date, date_to: dt.date
) -> migration.Migration:
    """Return the segments at both dates, computed once per session and settings."""
    key = (selection.dataset, dataset_version(selection.dataset), date_from, date_to, scoring)
    slot = st.session_state.get("migration")
    if slot is None or slot[0] != key:
        if slot is not None:
            st.session_state.pop("migration")[1].backend.disconnect()
        with st.spinner("Segmenting customers at both dates…"):
            result = migration.compare_dates(
                workspace(), selection.dataset, date_from, date_to, scoring
            )
        st.session_state["migration"] = (key, result)
    return st.session_state["migration"][1]


def get_backtest(
    selection: Selection, scoring: migration.Scoring, as_of: dt.date, horizon_days: int
) -> backtest.Backtest:
    """Return the backtest for these settings, computed once per session and settings."""
    key = (selection.dataset, dataset_version(selection.dataset), as_of, horizon_days, scoring)
    slot = st.session_state.get("backtest")
    if slot is None or slot[0] != key:
        with st.spinner("Segmenting customers at the past date…"):
            result = backtest.run_backtest(
                workspace(), selection.dataset, as_of, horizon_days, scoring
            )
        st.session_state["backtest"] = (key, result)
    return st.session_state["backtest"][1]


def get_clusters(
    base: analysis.CustomerBase, cuts: rfm.Cuts, scheme: schemes.Scheme, compute: bool
) -> Clustering | None:
    """Return the clusters for the base, cuts and scheme if computed (now when ``compute``)."""
    # scikit-learn takes seconds to import; only sessions that cluster pay for it.
    from dashboard import clustering

    key = (st.session_state.get("base_key"), cuts, scheme)
    slot = st.session_state.get("clusters")
    if compute and (slot is None or slot[0] != key):
        with st.spinner("Fitting k-means for k = 2 to 8…"):
            try:
                st.session_state["clusters"] = (
                    key,
                    clustering.cluster_customers(base, cuts, scheme),
                )
            except clustering.ClusteringError as exc:
                st.warning(str(exc))
                return None
        slot = st.session_state["clusters"]
    return slot[1] if slot is not None and slot[0] == key else None


def explain_customer(
    base: analysis.CustomerBase, cuts: rfm.Cuts, scheme: schemes.Scheme, key: str
) -> dict[str, object] | None:
    """Return the explanation of the customer with id or email ``key`` (None when unknown)."""
    return explain.explain_customer(base, cuts, scheme, key, workspace())


def read_scheme_upload(uploaded: UploadedFile | None) -> schemes.Scheme | None:
    """Return the scheme of an uploaded JSON file, or show why it cannot be used and return None."""
    if uploaded is None:
        return None
    try:
        return scheme_io.scheme_from_json(uploaded.getvalue().decode("utf-8"))
    except UnicodeDecodeError:
        st.error("The scheme file is not UTF-8 text.")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def read_scheme_table(
    table: pd.DataFrame, scheme: schemes.Scheme, name: str
) -> schemes.Scheme | None:
    """Return the scheme of an edited scheme table, or show its gaps and overlaps; None then."""
    try:
        return scheme_io.scheme_from_table(table, scheme, name or scheme.name)
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def save_scheme(scheme: schemes.Scheme, name: str) -> None:
    """Save ``scheme`` as custom scheme ``name`` in the workspace and say where to find it."""
    scheme_io.save_custom_scheme(workspace(), scheme, name)
    # A scheme saved under an old name may have another scale: drop its cached quantile cuts.
    st.session_state.pop("quantile_key", None)
    st.success(f"Saved '{name}': choose '{name} (custom)' under Segment scheme in the sidebar.")
