"""Website traffic by channel from GA4 acquisition reports, and the Direct share of sessions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.acquisition import traffic
from dashboard.ui import session

NO_TRAFFIC_HINT = (
    "Load a GA4 traffic acquisition report (Data page) to see sessions and conversion rate by "
    "channel"
)


def get_traffic_by_channel(
    selection: ui.Selection, first_day: dt.date | None, last_day: dt.date | None
) -> pd.DataFrame:
    """Return ``traffic.load_traffic_by_channel`` for the selection, computed once per key."""
    key = (selection.dataset, ui.dataset_version(selection.dataset), first_day, last_day)
    return session.cached(
        "traffic_by_channel",
        key,
        lambda: traffic.load_traffic_by_channel(
            ui.workspace(), selection.dataset, first_day, last_day
        ),
    )


def get_direct_share(selection: ui.Selection) -> traffic.DirectShare | None:
    """Return the Direct share of sessions over the last complete months, once per key."""
    key = (selection.dataset, ui.dataset_version(selection.dataset), selection.as_of)
    return session.cached(
        "direct_share",
        key,
        lambda: traffic.load_direct_share(ui.workspace(), selection.dataset, selection.as_of),
    )


def show_traffic_by_channel(
    selection: ui.Selection, first_day: dt.date | None = None, last_day: dt.date | None = None
) -> None:
    """A table of sessions, engaged rate, conversion rate and revenue per channel.

    Periods whose first day lies in [first_day, last_day] count (default: up to the analysis
    date). Without channel sessions in the dataset, only a one-line hint is shown.
    """
    frame = get_traffic_by_channel(selection, first_day, last_day or selection.as_of)
    if frame.empty:
        st.caption(NO_TRAFFIC_HINT + ".")
        return
    money = formatting.table_money_format(selection.currency)
    unit = f" ({selection.currency})" if selection.currency else ""
    st.dataframe(
        frame[["channel", "sessions", "engaged_rate", "conversion_rate", "revenue"]],
        hide_index=True,
        width="stretch",
        column_config={
            "channel": st.column_config.TextColumn("Channel"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "engaged_rate": st.column_config.NumberColumn(
                "Engaged rate", format="percent", help="Engaged sessions / sessions (GA4)."
            ),
            "conversion_rate": st.column_config.NumberColumn(
                "Conversion rate",
                format="percent",
                help="Key events (conversions) / sessions, as GA4 counts them.",
            ),
            "revenue": st.column_config.NumberColumn(
                f"Revenue{unit}", format=money, help="GA4's total revenue of the sessions."
            ),
        },
        key="traffic_by_channel_table",
    )
    st.caption(
        "From the GA4 acquisition reports loaded: sessions by GA4's channel group (Unassigned "
        "shown as Unattributed), for the weeks or months starting in the period."
    )


def show_direct_share(share: traffic.DirectShare, where: object = st) -> None:
    """The Direct share of sessions over the last complete months, as a metric in ``where``
    (a column or the page).

    Shown as evidence for the Well established stage's "most new customers from direct
    traffic"; it does not change the stage.
    """
    where.metric(
        f"Direct share of sessions, {share.first_month:%b %Y} - {share.last_month:%b %Y}",
        formatting.format_percent(share.share, 0),
        help=f"{share.direct_sessions:,} of {share.sessions:,} sessions in GA4's Direct channel "
        f"group, over the last {traffic.DIRECT_SHARE_MONTHS} complete months. A high share is "
        "the direct traffic of a well established store; it is evidence, and does not change "
        "the stage.",
    )
