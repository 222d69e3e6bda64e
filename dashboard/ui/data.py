"""Data-page widgets: the dataset and its loads, uploads, reading options, column mapping, the
load itself, ingest reports and deleting a dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import access, formatting, ingest, ui
from dashboard.errors import UserError
from dashboard.ingest import history as ingest_history
from dashboard.ingest.ledger import MAX_ISSUES_PER_REASON
from dashboard.ingest.report import NOT_RECORDED, IngestReport, render_report_csv
from dashboard.rfm import analysis
from dashboard.ui import auth, uploads
from dashboard.ui.currency import offer_currency_setting
from dashboard.ui.text import escape_markdown
from dashboard.workspace import store

LAST_REPORT = "last_report"
LAST_REPORT_DATASET = "last_report_dataset"
UPLOAD_FOLDER = "upload_folder"
SAVED_UPLOAD = "saved_upload"
SEGMENTS_PAGE = "pages/segments.py"

# The answers to "What is this file?", by format.
FORMAT_LABELS = {
    "shopify-orders": "Shopify orders export",
    "shopify-customers": "Shopify customers export",
    "shopify-checkouts": "Shopify abandoned checkouts export",
    "woocommerce-orders": "WooCommerce order export",
    "uci-online-retail": "Invoice lines in the UCI Online Retail layout",
    "ga4-events": "GA4 events export (sessions)",
    "ga4-purchases": "GA4 purchase events export (orders)",
    "ga4-acquisition": "GA4 traffic or user acquisition report (sessions by channel)",
    "meta-ads": "Meta Ads Manager export (marketing spend)",
    "google-ads": "Google Ads report (marketing spend)",
    "generic": "Orders, one row per order (map the columns)",
    "order-lines": "Order lines, one row per product ordered (map the columns)",
    "customers": "Customers (map the columns)",
    "sessions": "Website sessions (map the columns)",
    "marketing-spend": "Marketing spend by month and channel (map the columns)",
    "surveys": "Survey scores (map the columns)",
}
# Widths in pixels that add up to 790, so every column is whole in the 800 px the page gives the
# table in a 1280 px window (tests/browser/test_data_files_table_browser.py); wider windows only
# stretch them. Each load's report has every count and the full file name.
HISTORY_COLUMNS = {
    "ingest_id": st.column_config.NumberColumn("#", format="%d", width=40),
    "file_name": st.column_config.TextColumn("File", width=190),
    "file_format": st.column_config.TextColumn("Format", width=135),
    "records_read": st.column_config.TextColumn(
        "Records", width=75, help="Records read from the file."
    ),
    "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized", width=75),
    "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized", width=75),
    "rows_duplicate": st.column_config.NumberColumn(
        "Skipped", format="localized", width=70, help="Rows already loaded, so skipped."
    ),
    "loaded_at": st.column_config.DatetimeColumn("Loaded at", format="YYYY-MM-DD HH:mm", width=130),
}


def show_dataset(selection: ui.Selection) -> None:
    """The chosen dataset's headline counts and loads, and the report of a load picked."""
    st.subheader(f"Dataset: {selection.dataset}")
    show_dataset_overview(selection.overview)
    offer_currency_setting(selection.dataset, selection.overview)
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
    """The file uploader (emptied after each load); a file removed from it is deleted."""
    uploaded = st.file_uploader(
        "Export file",
        type=["csv", "tsv", "txt", "parquet", "xlsx", "gz", "zip"],
        key=f"upload_{st.session_state.get('uploads', 0)}",
        help="Kept on this server only until it is loaded (or refused), replaced, or you leave.",
    )
    if uploaded is None:
        discard_upload()
    return uploaded


def load_upload(target: str | None, uploaded: UploadedFile) -> None:
    """Reading options, sheet, the file's kind and column mapping of the upload, then a "Load
    file" button that loads it into ``target`` and reruns with its report.

    A file with a header but no data rows is refused before any choice. Until ``target`` is a
    valid name (None or "": a new dataset not named yet) a hint says why the button is off; the
    upload is kept meanwhile. A user who is not an analyst of ``target`` is refused.
    """
    if target:
        auth.require_role(target, access.ANALYST)
    path = save_upload(uploaded)
    date_order, decimal = choose_reading_options()
    sheet = choose_sheet(path, uploaded.name)
    try:
        headers, detection = ingest.inspect_upload(path, sheet, uploaded.name)
    except ingest.IngestError:
        discard_upload()
        raise
    file_format = choose_format(detection, key=f"kind_{uploaded.file_id}")
    mapping = mapping_editor(headers, file_format) if file_format in ingest.MAPPED_FORMATS else None
    problem = describe_target_problem(target)
    if problem:
        st.info(problem)
    if not st.button("Load file", type="primary", disabled=problem is not None):
        return
    name = escape_markdown(uploaded.name)
    with st.status(f"Loading {name}…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
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
        except UserError as exc:
            status.update(label=f"{name} was not loaded", state="error", expanded=True)
            st.error(escape_markdown(exc))
            return
        except Exception:
            status.update(label=f"{name} was not loaded", state="error", expanded=True)
            raise
        finally:
            discard_upload()
        status.update(label=escape_markdown(report.summary()), state="complete")
    st.session_state[LAST_REPORT] = report
    st.session_state[LAST_REPORT_DATASET] = target
    st.session_state["dataset"] = target
    # A new uploader key empties it, so the same file is not loaded twice by accident.
    st.session_state["uploads"] = st.session_state.get("uploads", 0) + 1
    st.rerun()


def describe_target_problem(target: str | None) -> str | None:
    """Why the upload cannot be loaded into ``target`` yet (one sentence), or None."""
    if not target:
        return "Type a name for the new dataset above to load this file; the upload is kept."
    try:
        store.validate_dataset_name(target)
    except store.WorkspaceError as exc:
        return escape_markdown(exc)
    return None


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


def choose_format(detection: ingest.Detection, key: str) -> str:
    """ "What is this file?": every kind of file, the detected one preselected, with the reason
    when detection was unsure. ``key`` is the upload's, so each new file starts from its own
    detection."""
    formats = [f for f in ingest.FORMATS if f != "auto"]
    chosen = st.radio(
        "What is this file?",
        formats,
        index=formats.index(detection.format),
        format_func=lambda f: FORMAT_LABELS.get(f, f),
        help="Preselected from the file's column names and first rows; change it if the guess "
        "is wrong.",
        key=key,
    )
    if not detection.confident:
        st.warning(
            "Not sure what this file is: "
            + escape_markdown(detection.refusal or detection.reason)
            + " Check the choice above."
        )
    return chosen


def save_upload(uploaded: UploadedFile) -> Path:
    """Write an upload to this session's private folder (``uploads``) once, and return its
    path; the session's previous upload is deleted."""
    folder = st.session_state.get(UPLOAD_FOLDER)
    if folder is None:
        folder = uploads.UploadFolder()
        st.session_state[UPLOAD_FOLDER] = folder
    saved = st.session_state.get(SAVED_UPLOAD)
    if saved is not None and saved[0] == uploaded.file_id and saved[1].exists():
        return saved[1]
    path = folder.save(uploaded.name, uploaded.getbuffer())
    st.session_state[SAVED_UPLOAD] = (uploaded.file_id, path)
    return path


def discard_upload() -> None:
    """Delete this session's upload from disk (loaded, refused or abandoned)."""
    folder = st.session_state.get(UPLOAD_FOLDER)
    if folder is not None:
        folder.discard()
    st.session_state.pop(SAVED_UPLOAD, None)


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


def show_last_report(current: str | None) -> None:
    """Show the report of the file loaded last in this session, if any, with the way on to the
    Segments page when that load's dataset is the one chosen (``current``)."""
    report = st.session_state.get(LAST_REPORT)
    if report is None:
        return
    dataset = st.session_state.get(LAST_REPORT_DATASET)
    st.markdown(f"**Last file loaded, into '{escape_markdown(dataset)}'**")
    if dataset == current:
        st.page_link(SEGMENTS_PAGE, label="Open Segments for this dataset")
    show_report(report, key=LAST_REPORT)


def offer_dataset_deletion(dataset: str) -> None:
    """An expander to delete ``dataset`` after a confirmation tick."""
    if not auth.may(dataset, access.ADMIN):
        return
    with st.expander("Delete a dataset"):
        confirm = st.checkbox(f"Yes, delete '{dataset}' and everything loaded into it")
        if st.button("Delete dataset", disabled=not confirm):
            store.delete_dataset(ui.workspace(), dataset)
            st.session_state.pop("dataset", None)
            st.session_state.pop(LAST_REPORT, None)
            st.session_state.pop(LAST_REPORT_DATASET, None)
            st.rerun()
