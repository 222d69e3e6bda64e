"""Issue 17 in headless Chromium on the demo store: pick Champions in the Segments page's
download section, read its playbook panel, and download it as a Klaviyo list holding exactly
the Champions who accepted e-mail marketing (one row per e-mail address)."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from test_browser import DOWNLOAD, assert_no_problem, choose, open_segments, screenshot, wait_idle

from dashboard import engines
from dashboard.rfm import analysis, cut_points, schemes

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
DATASET = "demo"  # conftest.DATASET, the demo store
SEGMENT = "Champions"
PLAYBOOK = REPO / "dashboard" / "playbook" / "data" / "shopify.toml"


def read_goal(segment: str) -> str:
    """The goal of ``segment``'s entry in the shipped Shopify playbook."""
    entries = tomllib.loads(PLAYBOOK.read_text(encoding="utf-8"))["entry"]
    return next(e["goal"] for e in entries if e["segment"] == segment)


def count_consenting_members(workspace: Path, segment: str) -> set[str]:
    """The e-mail addresses of ``segment``'s members (quantile scoring of the default scheme, as
    the page opens) who accepted e-mail marketing, from the engine, not from the export."""
    scheme = schemes.PRESETS[schemes.DEFAULT_SCHEME]
    base = analysis.load_customer_base(workspace, DATASET)
    try:
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
        members = analysis.segment_members(base, cuts, scheme, segment)
    finally:
        base.close()
    with engines.open_tables("duckdb", workspace=workspace, dataset=DATASET) as tables:
        customers = tables.customers.select("customer_id", "email", "accepts_marketing")
        consent = customers.to_pandas()
    joined = members[["customer_id"]].merge(consent, on="customer_id", how="left")
    emails = joined.email.astype("string").str.strip()
    accepted = joined.accepts_marketing.astype("boolean").fillna(False).astype(bool)
    assert len(members) > 0
    return set(emails[accepted & emails.notna() & (emails != "")])


def test_champions_playbook_and_klaviyo_download(visit, demo_workspace, artifacts, tmp_path):
    page = visit.page
    open_segments(page)
    choose(page, "Segment", SEGMENT)
    wait_idle(page)
    panel = page.locator('[data-testid="stExpander"]').filter(has_text=f"Playbook: {SEGMENT}")
    panel.wait_for()
    goal = read_goal(SEGMENT)
    assert panel.get_by_text(goal).is_visible()

    radio = page.locator('[data-testid="stRadio"]').filter(has_text="Klaviyo list")
    radio.get_by_text("Klaviyo list", exact=True).click()
    wait_idle(page)
    button = page.locator(DOWNLOAD).filter(has_text="(klaviyo)")
    button.wait_for()
    assert_no_problem(page)
    with page.expect_download() as download_info:
        button.locator("button").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    frame = pd.read_csv(io.BytesIO(target.read_bytes()), dtype=str, keep_default_na=False)

    expected = count_consenting_members(demo_workspace, SEGMENT)
    assert frame.columns[0] == "Email", frame.columns.tolist()
    assert len(frame) == len(expected)
    assert set(frame.Email) == expected
    assert (frame.Segment == SEGMENT).all()
    label = button.inner_text().strip()
    assert label == f"Download {len(expected):,} rows (klaviyo)", label
    assert visit.refused == [], visit.refused
    panel.scroll_into_view_if_needed()
    screenshot(page, artifacts / "segments_playbook.png")
