"""Channels-page widgets: the period and CLV inputs, the channel table, where each channel's
customers are now, and spend, CAC (by channel and by campaign) and CLV : CAC."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.acquisition import channel_rules, channels, reports, spend
from dashboard.charts import acquisition_charts
from dashboard.ui import acquisition as ui_acquisition


def choose_channel_settings(selection: ui.Selection) -> tuple[reports.Settings, bool]:
    """The first-order period, the CLV years and the editable rules and spend mapping; return
    the settings they make and whether the dataset has spend."""
    period, clv_years = st.columns([3, 1])
    with period:
        first_from, first_to = ui_acquisition.choose_first_order_period(selection)
    with_spend = ui_acquisition.dataset_has_spend(selection)
    years = clv_years.number_input(
        "Expected years of buying (simple CLV)",
        min_value=0.5,
        max_value=20.0,
        value=spend.DEFAULT_EXPECTED_YEARS,
        step=0.5,
        disabled=not with_spend,
        help="Simple CLV = AOV x orders per year x these years; needs a spend table for CAC.",
    )
    rules_box, mapping_box = st.columns(2)
    with rules_box:
        ui_acquisition.edit_channel_rules()
    if with_spend:
        with mapping_box:
            ui_acquisition.edit_spend_mapping()
    settings = ui_acquisition.acquisition_settings(
        selection, first_from=first_from, first_to=first_to, expected_years=years
    )
    return settings, with_spend


def get_period_attribution(selection: ui.Selection, settings: reports.Settings) -> pd.DataFrame:
    """Return the channel of each customer whose first order falls in the settings' period."""
    return reports.select_period(
        ui_acquisition.get_attribution(selection, settings), settings.first_from, settings.first_to
    )


def show_channel_totals(table: pd.DataFrame, currency: str | None) -> None:
    """Four figures of the new customers: how many, their revenue, repeat rate, unattributed."""
    unattributed = table[table.channel == channels.UNATTRIBUTED].new_customers.sum()
    totals = st.columns(4)
    totals[0].metric("New customers", formatting.format_count(table.new_customers.sum()))
    totals[1].metric("Their revenue", formatting.format_money(table.revenue.sum(), currency))
    totals[2].metric(
        "Repeat rate",
        formatting.format_percent(
            (table.repeat_rate * table.new_customers).sum() / table.new_customers.sum()
        ),
    )
    totals[3].metric(
        "Unattributed",
        formatting.format_percent(unattributed / table.new_customers.sum()),
        help="Customers whose first order carries no evidence any rule recognises. An "
        "online-store order source (web, an app id) is no evidence: it says where the order "
        "was placed, not how the customer found the store.",
    )


def show_unattributed_note(note: str | None) -> None:
    """Say what share is Unattributed and, when the data holds no channel evidence, which file
    would fill it (``ChannelReport.unattributed_note``)."""
    if note is not None:
        st.info(note)


def show_channel_table(
    table: pd.DataFrame, attribution: pd.DataFrame, currency: str | None
) -> None:
    """The channel charts and table, and which evidence decided each channel."""
    left, right = st.columns(2)
    left.plotly_chart(acquisition_charts.plot_channel_shares(table), width="stretch")
    right.plotly_chart(acquisition_charts.plot_channel_value(table, currency), width="stretch")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config=channel_column_config(currency),
        key="channel_table",
    )
    st.caption(
        "Revenue is net of refunds, over all orders up to the analysis date. The 90/180/365-day "
        "columns count only customers whose first order is at least that many days before the "
        "analysis date, and the revenue of their orders in those first days."
    )
    with st.expander("Which evidence decided each channel"):
        st.dataframe(reports.count_evidence(attribution), hide_index=True, width="stretch")


def show_channel_segments(selection: ui.Selection, attribution: pd.DataFrame) -> None:
    """Customers per channel and RFM segment today, as a chart and a table."""
    st.subheader("Where each channel's customers are now")
    cells = ui_acquisition.get_channel_segments(selection, attribution)
    st.plotly_chart(
        acquisition_charts.plot_channel_segments(channels.pivot_channel_segments(cells)),
        width="stretch",
    )
    st.dataframe(
        channels.pivot_channel_segments(cells, "customers"),
        width="stretch",
        column_config={"_index": st.column_config.TextColumn("Customers per channel")},
    )


def show_spend_economics(
    report: reports.ChannelReport, expected_years: float, currency: str | None
) -> None:
    """Unmapped spend, the CLV : CAC verdict, the CAC charts and the CAC and CLV table."""
    if report.unmapped:
        st.warning(
            "Acquisition spend under names no mapping row covers: "
            + ", ".join(report.unmapped)
            + ". It is counted as Unmapped; add the names to the mapping above."
        )
    economics = report.economics
    blended, paid = st.columns(2)
    blended.metric(
        "CAC, blended",
        formatting.format_money(spend.read_cac(economics, spend.ALL_CHANNELS), currency),
        help="All acquisition spend / every new customer of the period, Direct, Email and "
        "Unattributed included.",
    )
    paid.metric(
        "CAC, paid channels",
        formatting.format_money(spend.read_cac(economics, spend.PAID_CHANNELS), currency),
        help="The spend mapped to paid channels (" + ", ".join(channel_rules.PAID_GROUPS) + ") "
        "/ the new customers of those channels only.",
    )
    total = economics[economics.channel == spend.ALL_CHANNELS]
    if not total.empty:
        ui_acquisition.show_clv_cac_health(*spend.assess_clv_cac(float(total.clv_to_cac.iloc[0])))
    left, right = st.columns(2)
    left.plotly_chart(acquisition_charts.plot_clv_cac(economics), width="stretch")
    right.plotly_chart(acquisition_charts.plot_cac(report.cac, currency), width="stretch")
    st.dataframe(
        economics,
        hide_index=True,
        width="stretch",
        column_config=economics_column_config(currency),
        key="economics_table",
    )
    st.caption(
        f"Simple CLV = AOV x orders in a customer's first 365 days x {expected_years:g} expected "
        "years (revenue, not margin); beside it the revenue customers actually brought in their "
        "first 365 days. CAC = acquisition spend / new customers of the channel in the chosen "
        "months; spend tagged 'retention' is left out. 'Paid channels' divides the paid "
        "channels' spend by their own new customers; 'All channels (blended)' divides all spend "
        "by every new customer. About 3 : 1 is the usual guide; 1 : 1 or below loses money on "
        "every customer."
    )
    show_campaign_cac(report.campaigns, currency)


def show_campaign_cac(campaigns: pd.DataFrame, currency: str | None) -> None:
    """The CAC by campaign table (``spend.summarise_campaign_cac``), when spend rows name
    campaigns, and why a campaign's new customers may not be counted."""
    if campaigns.empty:
        return
    st.markdown("**CAC by campaign**")
    st.dataframe(
        campaigns,
        hide_index=True,
        width="stretch",
        column_config=campaign_column_config(currency),
        key="campaign_cac_table",
        placeholder="—",
    )
    st.caption(
        "A new customer counts for a campaign when the utm_campaign of their first order is the "
        "campaign's name (case and spaces aside); CAC = the campaign's acquisition spend in the "
        "chosen months / those new customers."
    )
    missing = spend.describe_campaigns_without_evidence(campaigns)
    if missing:
        st.info(missing)


def channel_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the per-channel table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    config: dict[str, object] = {
        "channel": st.column_config.TextColumn("Channel"),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "share_new_customers": st.column_config.NumberColumn(
            "% of new customers", format="percent"
        ),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "repeat_rate": st.column_config.NumberColumn("Repeat rate", format="percent"),
        "orders_per_customer": st.column_config.NumberColumn("Orders per customer", format="%.2f"),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
        "orders_per_customer_365d": st.column_config.NumberColumn(
            "Orders in first 365 days", format="%.2f"
        ),
    }
    for days in channels.HORIZONS_DAYS:
        config[f"customers_{days}d"] = st.column_config.NumberColumn(
            f"Customers seen {days}+ days", format="localized"
        )
        config[f"revenue_per_customer_{days}d"] = st.column_config.NumberColumn(
            f"{days}-day revenue per customer{unit}",
            format=money,
            help=f"Only customers whose first order is at least {days} days before the analysis "
            "date count here.",
        )
    return config


def campaign_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the CAC by campaign table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "campaign": st.column_config.TextColumn("Campaign"),
        "spend_channel": st.column_config.TextColumn("Spend name"),
        "channel": st.column_config.TextColumn("Channel"),
        "acquisition_spend": st.column_config.NumberColumn(
            f"Acquisition spend{unit}", format=money
        ),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "cac": st.column_config.NumberColumn(f"CAC{unit}", format=money),
    }


def economics_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the CAC and CLV : CAC table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "channel": st.column_config.TextColumn("Channel"),
        "acquisition_spend": st.column_config.NumberColumn(
            f"Acquisition spend{unit}", format=money
        ),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "cac": st.column_config.NumberColumn(f"CAC{unit}", format=money),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "orders_per_year": st.column_config.NumberColumn("Orders per year", format="%.2f"),
        "expected_years": st.column_config.NumberColumn("Expected years", format="%.1f"),
        "simple_clv": st.column_config.NumberColumn(f"Simple CLV{unit}", format=money),
        "observed_ltv_365d": st.column_config.NumberColumn(
            f"Observed 365-day revenue{unit}", format=money
        ),
        "clv_to_cac": st.column_config.NumberColumn("CLV : CAC", format="%.1f : 1"),
        "payback_months": st.column_config.NumberColumn(
            "Months to pay back CAC",
            format="%d",
            help="0 = the first month's orders already cover CAC; empty = not reached yet.",
        ),
        "health": st.column_config.TextColumn("Health"),
    }
