"""Issue 18 #17 on screen: the Channels page's "CAC by campaign" table.

A store built through the real loaders: a Shopify orders export whose first orders carry
utm_campaign in Note Attributes (tests/tracking_export.py writes it), and a Meta Ads Manager
export with two campaigns. Expected numbers are computed by hand in the comments.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tracking_export import write_export

from dashboard import ingest
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAID = "utm_source: facebook\nutm_medium: paidsocial\nutm_campaign: "
# Three new customers in March 2025: two came through "Spring Sale" (case and spaces aside),
# one carries no evidence.
ORDERS = [
    {"Email": "ann@example.com", "Note Attributes": PAID + "Spring Sale"},
    {"Email": "bob@example.com", "Note Attributes": PAID + " spring sale"},
    {"Email": "cid@example.com"},
]
# Spring Sale: 100.00 + 50.50 = 150.50 over 2 customers = 75.25; Brand: 40.00, no evidence.
META = """\
Campaign name,Ad set name,Reporting starts,Reporting ends,Amount spent (USD)
Spring Sale,Lookalike,2025-03-01,2025-03-07,100.00
Spring Sale,Retargeting,2025-03-08,2025-03-14,50.50
Brand,Broad,2025-03-01,2025-03-07,40.00
"""
MONTHLY = "month,channel,spend\n2025-03,Meta Ads,190.50\n"


def build_store(tmp_path: Path, spend_file: str) -> Path:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    ingest.ingest_file(workspace, "shop", write_export(tmp_path / "orders.csv", ORDERS))
    spend = tmp_path / "spend.csv"
    spend.write_text(spend_file, encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", spend)
    assert report.rows_rejected == 0, report.summary()
    return workspace


def open_channels(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app = app.switch_page("pages/channels.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def test_channels_page_shows_cac_by_campaign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_channels(build_store(tmp_path, META), monkeypatch)
    assert "**CAC by campaign**" in [m.value for m in app.markdown]
    table = next(t.value for t in app.dataframe if "campaign" in t.value.columns)
    assert table.campaign.tolist() == ["Spring Sale", "Brand"]
    assert table.channel.tolist() == ["Paid Social", "Paid Social"]
    assert table.acquisition_spend.tolist() == [150.5, 40.0]
    assert table.new_customers.iloc[0] == 2 and table.new_customers.isna().iloc[1]
    assert table.cac.iloc[0] == 75.25 and math.isnan(table.cac.iloc[1])
    element = next(f for f in app.dataframe if "campaign" in f.value.columns)
    # Money as in the other CAC tables: the dataset's currency (USD) in Streamlit's preset.
    assert '"format":"dollar"' in element.proto.columns.replace(" ", "")
    assert [i.value for i in app.info if "campaigns show" in i.value] == [
        "1 of 2 campaigns show — for new customers and CAC: no new customer's first order "
        "carries their name in utm_campaign, so the orders hold no campaign evidence to count "
        "them by."
    ]


def test_no_campaign_table_when_spend_names_no_campaign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_channels(build_store(tmp_path, MONTHLY), monkeypatch)
    assert "**CAC by campaign**" not in [m.value for m in app.markdown]
    assert not any("campaign" in t.value.columns for t in app.dataframe)
    # The spend still counts in CAC by channel: 190.50 over Paid Social's 2 new customers.
    economics = next(t.value for t in app.dataframe if "clv_to_cac" in t.value.columns)
    paid_social = economics[economics.channel == "Paid Social"]
    assert paid_social.cac.tolist() == [95.25]
