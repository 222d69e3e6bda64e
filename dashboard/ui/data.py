"""Data-page widgets: the dataset and its loads, uploads, reading options, column mapping, the
load itself, ingest reports and deleting a dataset."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import formatting, ingest, ui
from dashboard.ingest import history as ingest_history
from dashboard.ingest.ledger import MAX_ISSUES_PER_REASON
from dashboard.ingest.report import NOT_RECORDED, IngestReport, render_report_csv
from dashboard.rfm import analysis
from dashboard.ui.text import escape_markdown
from dashboard.workspace import store

LAST_REPORT = "last_report"

FORMAT_LABELS = {
    "shopify-orders": "Shopify orders export",
    "shopify-customers": "Shopify customers export",
    "shopify-checkouts": "Shopify abandoned checkouts export",
    "woocommerce-orders": "WooCommerce order export",
    "uci-online-retail": "UCI Online Retail invoice lines",
    "generic": "Orders table (map the columns)",
    "order-lines": "Order lines table (map the columns)",
    "customers": "Customers table (map the columns)",
    "sessions": "Sessions table (map the columns)",
    "marketing-spend": "Marketing spend table (map the columns)",
    "surveys": "Survey scores table (map the columns)",
}
HISTORY_COLUMNS = {
    "ingest_id": st.column_config.NumberColumn("#", format="%d"),
    "file_name": st.column_config.TextColumn("File", width="large"),
    "file_format": st.column_config.TextColumn("Format"),
    "table_name": st.column_config.TextColumn("Into table"),
    "records_read": st.column_config.TextColumn("Records in the file"),
    "rows_read": st.column_config.NumberColumn("Rows read", format="localized"),
    "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
    "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
    "rows_duplicate": st.column_config.NumberColumn("Already loaded", format="localized"),
    "rows_warned": st.column_config.NumberColumn("With a warning", format="localized"),
    "loaded_at": st.column_config.DatetimeColumn("Loaded at", format="YYYY-MM-DD HH:mm"),
}


def show_dataset(selection: ui.Selection) -> None:
    """The chosen dataset's headline counts and loads, and the report of a load picked."""
    st.subheader(f"Dataset: {selection.dataset}")
    show_dataset_overview(selection.overview)
    with store.open_for_read(ui.workspace(), selection.dataset) as backend:
        history = store.read_ingest_history(backend)
    st.markdown("**Files loaded**")
    picked = show_load_history(history)
    if picked is not None:
        with store.open_for_read(ui.workspace(), selection.dataset) as backend:
            past = ingest_history.read_report(backend, picked)
        show_report(past, key="past_report")


def show_dataset_overview(overview: analysis.DatasetOverview) -> None:
    """Headline counts of a dataset and what they mean."""
    columns = st.columns(4)
    columns[0].metric("Orders", formatting.format_count(overview.orders))
    columns[1].metric(
        "Customers with orders", formatting.format_count(overview.customers_in_orders)
    )
    columns[2].metric("Customers file rows", formatting.format_count(overview.customers_file_rows))
    columns[3].metric(
        "Orders without a customer", formatting.format_count(overview.orders_without_customer)
    )
    st.caption(
        f"Orders from {overview.first_order_on:%d %b %Y} to {overview.last_order_on:%d %b %Y}"
        f" · currency {', '.join(overview.currencies) or 'not given'} · customers whose only "
        "orders were cancelled or had a total of 0 count as prospects on the Segments page."
    )


def choose_target(current: str | None) -> str | None:
    """Load into the chosen dataset or a new one; return its name (None or "" until named)."""
    target_choice = st.radio(
        "Into",
        ([f"Dataset '{current}'"] if current else []) + ["A new dataset"],
        horizontal=True,
    )
    if target_choice == "A new dataset":
        return st.text_input("New dataset name", placeholder="my-store", max_chars=64)
    return current


def upload_file() -> UploadedFile | None:
    """The file uploader (emptied after each load)."""
    return st.file_uploader(
        "Export file",
        type=["csv", "tsv", "txt", "parquet", "xlsx", "gz", "zip"],
        key=f"upload_{st.session_state.get('uploads', 0)}",
    )


def load_upload(target: str, uploaded: UploadedFile) -> None:
    """Reading options, sheet, format and column mapping of the upload, then a "Load file"
    button that loads it into ``target`` and reruns with its report."""
    store.validate_dataset_name(target)
    path = save_upload(uploaded)
    date_order, decimal = choose_reading_options()
    sheet = choose_sheet(path, uploaded.name)
    headers = ingest.read_headers(path, sheet)
    file_format = choose_format(headers)
    mapping = mapping_editor(headers, file_format) if file_format in ingest.MAPPED_FORMATS else None
    if not st.button("Load file", type="primary"):
        return
    with st.status(f"Loading {uploaded.name}…", expanded=True) as status:
        bar = st.progress(0.0)
        report = ingest.ingest_file(
            ui.workspace(),
            target,
            path,
            file_format=file_format,
            mapping=mapping,
            display_name=uploaded.name,
            progress=lambda fraction, message: bar.progress(fraction, text=message),
            date_order=date_order,
            decimal=decimal,
            sheet=sheet,
        )
        status.update(label=report.summary(), state="complete")
    st.session_state[LAST_REPORT] = report
    st.session_state["dataset"] = target
    # A new uploader key empties it, so the same file is not loaded twice by accident.
    st.session_state["uploads"] = st.session_state.get("uploads", 0) + 1
    st.rerun()


def choose_reading_options() -> tuple[str, str]:
    """An expander with the date order and the decimal mark; returns both."""
    with st.expander("Reading options"):
        date_order = st.selectbox(
            "Date order",
            ingest.DATE_ORDERS,
            format_func={
                "auto": "Decide from the file",
                "day-first": "Day first (31/12/2024)",
                "month-first": "Month first (12/31/2024)",
            }.get,
            help="How dates like 03/04/2024 read when no date in the file tells.",
        )
        decimal = st.selectbox(
            "Decimal mark",
            ingest.DECIMAL_MARKS,
            format_func={
                "auto": "Decide from the file",
                ".": "Point (1,234.50)",
                ",": "Comma (1.234,50)",
            }.get,
        )
    return date_order, decimal


def choose_format(headers: list[str]) -> str:
    """The file format, preselected from the header."""
    formats = [f for f in ingest.FORMATS if f != "auto"]
    return st.selectbox(
        "Format",
        formats,
        index=formats.index(ingest.detect_format(headers)),
        format_func=FORMAT_LABELS.get,
        help="Detected from the header; change it if the guess is wrong.",
    )


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


def choose_sheet(path: Path, file_name: str) -> str | None:
    """Let the analyst pick the worksheet of an uploaded Excel workbook that has several;
    None (the first sheet, or no sheet at all) otherwise."""
    if not file_name.lower().endswith(".xlsx"):
        return None
    names = ingest.list_sheets(path)
    if len(names) < 2:
        return None
    return st.selectbox(
        "Excel sheet",
        names,
        help="The workbook has several sheets; the first is read unless you pick another.",
    )


def mapping_editor(headers: list[str], file_format: str = "generic") -> dict[str, str]:
    """Let the analyst confirm or change the guessed column mapping of a mapped format's file.

    An orders file may leave the customer unmapped; a hint then says what that means.
    """
    guessed = ingest.guess_mapping(headers, file_format)
    st.markdown("**Confirm the columns** (guessed from the header names):")
    mapping: dict[str, str] = {}
    options = ["— not in this file —", *headers]
    columns = st.columns(3)
    for i, (field, spec) in enumerate(ingest.fields_for(file_format).items()):
        guess = guessed.get(field)
        with columns[i % 3]:
            choice = st.selectbox(
                spec.label + (" (required)" if spec.required else ""),
                options,
                index=options.index(guess) if guess in options else 0,
                help=spec.description,
                key=f"map_{file_format}_{field}",
            )
        if choice != options[0]:
            mapping[field] = choice
    if file_format == "generic" and "customer_id" not in mapping:
        st.info(
            "No customer column: every order will be loaded without a customer. Store totals "
            "(orders, revenue, average order value, the Maturity page) still work, but no "
            "customer can be scored or segmented. Choose the column with each order's customer "
            "e-mail, phone or customer id if the file has one."
        )
    return mapping


def show_load_history(history: pd.DataFrame) -> int | None:
    """Show the dataset's loads and return the one picked to see its report (None: none yet).

    In: ``store.read_ingest_history`` (one row per load, newest first).
    """
    st.dataframe(
        history.assign(
            records_read=[
                NOT_RECORDED if pd.isna(n) else formatting.format_count(n)
                for n in history["records_read"]
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config=HISTORY_COLUMNS,
        column_order=list(HISTORY_COLUMNS),
    )
    labels = {
        int(row.ingest_id): f"#{row.ingest_id} {row.file_name} ({row.loaded_at:%Y-%m-%d %H:%M})"
        for row in history.itertuples()
    }
    return st.selectbox(
        "See the report of a load",
        list(labels),
        index=None,
        format_func=labels.get,
        placeholder="Choose a file",
    )


def show_report(report: IngestReport, key: str) -> None:
    """Show an ingest report: counts, the records reconciled, rejected rows grouped by reason,
    issues as a table, and the whole report as a CSV download (``key`` names its button)."""
    if report.rows_rejected or report.rows_warned:
        st.warning(escape_markdown(report.summary()))
    else:
        st.success(escape_markdown(report.summary()))
    st.caption(escape_markdown(report.reconciliation()))
    for note in report.notes:
        st.info(escape_markdown(note))
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
        listed = (
            f"All {len(issues):,} row issues"
            if report.has_all_issues()
            else f"The first {len(issues):,} row issues ({MAX_ISSUES_PER_REASON:,} per reason)"
        )
        with st.expander(f"{listed} (line numbers count the header as line 1)"):
            st.dataframe(issues, hide_index=True, width="stretch")
    st.download_button(
        "Download the report (CSV)",
        render_report_csv(report),
        file_name=f"ingest-report-{report.ingest_id}-{Path(report.file_name).stem}.csv",
        mime="text/csv",
        key=f"{key}_download",
    )


def show_last_report() -> None:
    """Show the report of the file loaded last in this session, if any."""
    if st.session_state.get(LAST_REPORT) is not None:
        show_report(st.session_state[LAST_REPORT], key=LAST_REPORT)


def offer_dataset_deletion(dataset: str) -> None:
    """An expander to delete ``dataset`` after a confirmation tick."""
    with st.expander("Delete a dataset"):
        confirm = st.checkbox(f"Yes, delete '{dataset}' and everything loaded into it")
        if st.button("Delete dataset", disabled=not confirm):
            store.delete_dataset(ui.workspace(), dataset)
            st.session_state.pop("dataset", None)
            st.session_state.pop(LAST_REPORT, None)
            st.rerun()
