"""Marketing spend keeps its campaign (issue 18, item 17: "channel from the platform, campaign
kept").

Meta Ads Manager and Google Ads exports store one row per month, channel and campaign; a
monthly spend file may name campaigns too. Re-loading an export loads nothing twice; a dataset
an earlier version wrote (no campaign column) opens, keeps its spend with campaign NULL, and
refuses to load the same spend again per campaign. Files are written inline, expectations
computed by hand in comments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb

from dashboard import ingest
from dashboard.acquisition import spend
from dashboard.workspace import store

META = """\
Campaign name,Ad set name,Reporting starts,Reporting ends,Amount spent (USD),Impressions
Spring sale,Lookalike,2024-03-01,2024-03-07,120.50,1000
Spring sale,Retargeting,2024-03-01,2024-03-07,30.25,400
 spring SALE ,Lookalike,2024-03-08,2024-03-14,9.25,100
Brand,Broad,2024-03-08,2024-03-14,40.00,800
Brand,Broad,2024-04-01,2024-04-07,60.00,900
"""
GOOGLE = """\
Day,Campaign,Currency code,Cost
2024-03-01,Search - Brand,USD,12.34
2024-03-02,Search - Brand,USD,7.66
2024-03-02,PMax - All,USD,5.00
"""
ALREADY_WITHOUT = (
    "this month's spend on the channel is already loaded without campaigns, so loading it per "
    "campaign would count it twice"
)
ALREADY_PER_CAMPAIGN = (
    "this month's spend on the channel is already loaded per campaign, so loading it without "
    "campaigns would count it twice"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def query(workspace: Path, dataset: str, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


SPEND_ROWS = "SELECT month, channel, campaign, spend FROM marketing_spend ORDER BY 1, 2, 3"


def test_meta_export_keeps_one_row_per_month_and_campaign(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "meta.csv", META)
    assert ingest.describe_file(path).format == "meta-ads"
    report = ingest.ingest_file(workspace, "ads", path)
    # March Brand 40.00; March Spring sale 120.50 + 30.25 = 150.75 (" spring SALE " is another
    # name as written, so its own row: 9.25); April Brand 60.00.
    assert query(workspace, "ads", SPEND_ROWS) == [
        (dt.date(2024, 3, 1), "Meta Ads", "Brand", Decimal("40.00")),
        (dt.date(2024, 3, 1), "Meta Ads", "Spring sale", Decimal("150.75")),
        (dt.date(2024, 3, 1), "Meta Ads", "spring SALE", Decimal("9.25")),
        (dt.date(2024, 4, 1), "Meta Ads", "Brand", Decimal("60.00")),
    ]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 5, 0)
    # Three names stored: Brand, Spring sale, spring SALE.
    assert "Spend of 3 campaigns was loaded, one total per month and campaign" in " ".join(
        report.notes
    )


def test_loading_the_same_meta_export_twice_does_not_double_the_spend(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "meta.csv", META)
    ingest.ingest_file(workspace, "ads", path)
    again = ingest.ingest_file(workspace, "ads", path)
    # All 5 rows are already loaded (4 totals), none new, none rejected.
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (0, 5, 0)
    assert not any("campaign" in note for note in again.notes)
    # 40.00 + 150.75 + 9.25 + 60.00 = 260.00, once.
    assert query(workspace, "ads", "SELECT sum(spend), count(*) FROM marketing_spend") == [
        (Decimal("260.00"), 4)
    ]


def test_google_ads_report_keeps_its_campaigns(workspace: Path, tmp_path: Path) -> None:
    report = ingest.ingest_file(workspace, "ads", write(tmp_path, "google.csv", GOOGLE))
    # Search - Brand 12.34 + 7.66 = 20.00; PMax 5.00.
    assert query(workspace, "ads", SPEND_ROWS) == [
        (dt.date(2024, 3, 1), "Google Ads", "PMax - All", Decimal("5.00")),
        (dt.date(2024, 3, 1), "Google Ads", "Search - Brand", Decimal("20.00")),
    ]
    assert "Spend of 2 campaigns was loaded" in " ".join(report.notes)


def test_a_monthly_spend_file_may_name_campaigns(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "spend.csv",
        "month,channel,spend,campaign\n"
        "2024-03,Google Ads,10.00,Brand\n"
        "2024-03,Google Ads,5.50,Brand\n"
        "2024-03,Google Ads,3.00,\n"
        "2024-03,Meta Ads,7.00,Spring\n",
    )
    assert ingest.detect_format(ingest.read_headers(path)) == "marketing-spend"
    ingest.ingest_file(workspace, "shop", path)
    # Brand 10.00 + 5.50 = 15.50; the row without a campaign is Google Ads spend of its own.
    assert query(workspace, "shop", SPEND_ROWS) == [
        (dt.date(2024, 3, 1), "Google Ads", "Brand", Decimal("15.50")),
        (dt.date(2024, 3, 1), "Google Ads", None, Decimal("3.00")),
        (dt.date(2024, 3, 1), "Meta Ads", "Spring", Decimal("7.00")),
    ]
    again = ingest.ingest_file(workspace, "shop", path)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (0, 4, 0)


def _write_old_dataset(workspace: Path, name: str) -> None:
    """A dataset as the version before campaigns wrote it: marketing_spend without the column,
    holding the Meta export's March total (40.00 + 150.75 + 9.25 = 200.00) and April's 60.00."""
    old_columns = store.SCHEMA["marketing_spend"].replace(",\n        campaign  VARCHAR", "")
    assert "campaign" not in old_columns
    con = duckdb.connect(str(store.dataset_path(workspace, name)))
    con.execute(f"CREATE TABLE marketing_spend ({old_columns})")
    con.execute(
        "INSERT INTO marketing_spend VALUES (DATE '2024-03-01', 'Meta Ads', 200.00, NULL, 1), "
        "(DATE '2024-04-01', 'Meta Ads', 60.00, NULL, 1)"
    )
    con.execute(f"CREATE TABLE ingests ({store.SCHEMA['ingests']})")
    con.execute(
        "INSERT INTO ingests (ingest_id, file_name, file_format, table_name, rows_read, "
        "rows_loaded, rows_rejected, rows_duplicate, rows_warned, loaded_at, sha256) VALUES "
        "(1, 'meta.csv', 'meta-ads', 'marketing_spend', 5, 5, 0, 0, 0, "
        "TIMESTAMP '2024-05-01 10:00', 'abc')"
    )
    con.close()


def test_a_dataset_of_the_version_before_campaigns_opens_and_keeps_its_spend(
    workspace: Path, tmp_path: Path
) -> None:
    _write_old_dataset(workspace, "old")
    # Read-only (never migrated): the spend reads with campaign NULL.
    with store.open_for_read(workspace, "old") as backend:
        mapped = spend.map_spend(backend.table("marketing_spend"), spend.default_mapping())
        frame = mapped.order_by("month").to_pandas()
    assert frame.campaign.isna().all()
    assert [float(v) for v in frame.spend] == [200.0, 60.0]
    # The next load brings the table to the current schema; the old rows keep campaign NULL.
    ingest.ingest_file(workspace, "old", write(tmp_path, "google.csv", GOOGLE))
    assert query(workspace, "old", SPEND_ROWS) == [
        (dt.date(2024, 3, 1), "Google Ads", "PMax - All", Decimal("5.00")),
        (dt.date(2024, 3, 1), "Google Ads", "Search - Brand", Decimal("20.00")),
        (dt.date(2024, 3, 1), "Meta Ads", None, Decimal("200.00")),
        (dt.date(2024, 4, 1), "Meta Ads", None, Decimal("60.00")),
    ]
    columns = query(
        workspace,
        "old",
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'marketing_spend' "
        "ORDER BY column_index",
    )
    assert [name for (name,) in columns] == [
        n for n, _ in store._declared_columns(store.SCHEMA["marketing_spend"])
    ]


def test_spend_loaded_without_campaigns_is_not_loaded_again_per_campaign(
    workspace: Path, tmp_path: Path
) -> None:
    _write_old_dataset(workspace, "old")
    report = ingest.ingest_file(workspace, "old", write(tmp_path, "meta.csv", META))
    # Every row's month already holds Meta Ads spend without campaigns: all 5 rejected.
    assert (report.rows_loaded, report.rows_rejected) == (0, 5)
    assert report.reason_counts() == {ALREADY_WITHOUT: 5}
    assert query(workspace, "old", "SELECT sum(spend) FROM marketing_spend") == [
        (Decimal("260.00"),)
    ]


def test_a_monthly_total_is_not_loaded_beside_the_campaigns_it_adds_up(
    workspace: Path, tmp_path: Path
) -> None:
    ingest.ingest_file(workspace, "ads", write(tmp_path, "meta.csv", META))
    monthly = write(
        tmp_path,
        "spend.csv",
        "month,channel,spend,purpose\n"
        "2024-03,Meta Ads,200.00,acquisition\n"
        "2024-05,Meta Ads,80.00,acquisition\n"
        "2024-03,Meta Ads,15.00,retention\n",
    )
    report = ingest.ingest_file(workspace, "ads", monthly)
    # March's acquisition total would count the campaigns twice; May has none, and retention
    # spend is another kind of spend, so both load.
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    assert report.reason_counts() == {ALREADY_PER_CAMPAIGN: 1}
    assert [(i.line_number, i.raw_value) for i in report.issues] == [(2, "Meta Ads")]
    # 260.00 + 80.00 + 15.00
    assert query(workspace, "ads", "SELECT sum(spend) FROM marketing_spend") == [
        (Decimal("355.00"),)
    ]
