"""The "Download the report (HTML)" button: the page's segments and the store's figures in one
self-contained file to share (docs/report.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import order_rules, report_html, ui
from dashboard.acquisition import reports
from dashboard.behaviour.feature_table import FeatureParams
from dashboard.rfm import cut_points
from dashboard.ui import acquisition, predictions, session

NO_PREDICTIONS_NOTE = (
    "Predictions were not added on the Segments page when this report was made; tick "
    "'Add predicted value and churn risk' there to include them."
)


def offer_report_download(
    selection: ui.Selection,
    summary: pd.DataFrame,
    predicted: pd.DataFrame | None,
    cuts: cut_points.Cuts,
) -> None:
    """A download button for the HTML report, built only when clicked.

    In: the page's segment table (segments.SUMMARY_COLUMNS, for ``selection.scheme``) and, when
    shown, ``pipeline.score_customers``' rows. The store figures use this session's channel
    rules, spend mapping and counting rules, as the Channels and Maturity pages do.
    """
    workspace, settings = ui.workspace(), acquisition.acquisition_settings(selection)
    headline = (
        None
        if predicted is None
        else report_html.summarise_predictions(predicted, predictions.get_prediction_settings())
    )
    st.download_button(
        "Download the report (HTML)",
        session.defer_in_session(
            lambda: build_report_file(workspace, selection, settings, summary, headline, cuts)
        ),
        file_name=f"{selection.dataset}-report.html",
        mime="text/html",
        on_click="ignore",
        help="One file with the headline, this segment table and chart, the playbook of the top "
        "segments, channels, maturity and predictions; it opens in any browser, offline.",
    )


def build_report_file(
    workspace: Path,
    selection: ui.Selection,
    settings: reports.Settings,
    summary: pd.DataFrame,
    headline: report_html.PredictionHeadline | None,
    cuts: cut_points.Cuts,
) -> bytes:
    """The report download: ``report_html.render_report`` of the page's segment table
    (segments.SUMMARY_COLUMNS of ``selection.scheme``), its predictions' headline (None when the
    page shows none), its segments ranked by SCALE under ``cuts`` and the store figures under
    ``settings``, as UTF-8."""
    content = report_html.ReportContent(
        dataset=selection.dataset,
        scheme=selection.scheme,
        currency=selection.currency,
        store=report_html.load_report_figures(
            workspace, selection.dataset, selection.as_of, settings
        ),
        summary=summary,
        predictions=headline,
        prediction_note=None if headline else NO_PREDICTIONS_NOTE,
        workspace=workspace,
        ranked=report_html.load_rfm_scale(
            workspace,
            selection.dataset,
            order_rules.Window(as_of=selection.as_of, start=selection.start),
            selection.scheme,
            cuts,
            FeatureParams(counting=selection.rules, channel_rules=settings.rules),
            selection.currency,
        ),
    )
    return report_html.render_report(content, dt.datetime.now(dt.UTC)).encode("utf-8")
