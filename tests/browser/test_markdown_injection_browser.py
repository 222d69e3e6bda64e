"""Markdown from data is shown as text (issue: rendering safety): an image in a column header,
a link as a customer id, an imported scheme whose rule and segment names hold both. In headless
Chromium, no request leaves for the image and no link is live, on each page that shows them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import REPO, Server, open_tab, run_server
from test_analysis_pages_browser import open_page
from test_browser import choose, wait_idle

from dashboard.rfm import scheme_io, schemes
from dashboard.ui.text import WORD_JOINER

pytestmark = pytest.mark.browser

IMAGE = "![p](http://127.0.0.1:9/x.png)"
LINK = "[Click](http://evil.example)"
DATASET = "demo"  # the dataset the test server opens
ORDERS = f"""order_id,customer,{IMAGE},{LINK}
1,{LINK},13/02/2024,10.00
2,{LINK},14/03/2024,20.00
3,bob,15/04/2024,7.00
4,carol,16/04/2024,5.00
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over a dataset whose header and a customer id are Markdown, and a saved custom
    scheme whose rule and first segment's name are Markdown."""
    root = tmp_path_factory.mktemp("markdown")
    workspace, orders = root / "workspace", root / "orders.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    subprocess.run(
        [
            *(sys.executable, "-m", "dashboard", "ingest", str(orders)),
            *("--workspace", str(workspace), "--dataset", DATASET),
            *("--map", "customer_id=customer", f"ordered_at={IMAGE}", f"order_total={LINK}"),
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    document = json.loads(scheme_io.scheme_to_json(schemes.PRESETS["shopify"]))
    document["rule"] = f"Rule {IMAGE} {LINK}"
    document["segments"] = {
        (LINK if name == "Champions" else name): cells
        for name, cells in document["segments"].items()
    }
    folder = workspace / scheme_io.SCHEMES_FOLDER
    folder.mkdir()
    (folder / "hostile.json").write_text(json.dumps(document), encoding="utf-8")
    with run_server(workspace, root / "streamlit.log") as up:
        yield up


@pytest.fixture
def hostile(browser, hostile_server: Server, request: pytest.FixtureRequest):
    with open_tab(browser, hostile_server, "/", request) as tab:
        yield tab


def assert_shown_as_text(visit, *texts: str) -> None:
    """Each of ``texts`` appears literally, no image or link element was made from it, and no
    request left for the image."""
    page = visit.page
    wait_idle(page)
    # What the analyst reads: the invisible word joiners that stop bare links are not seen.
    body = page.locator('[data-testid="stMain"]').inner_text().replace(WORD_JOINER, "")
    for text in texts:
        assert text in body, f"{text!r} is not shown as text"
    # Headings carry an in-page anchor (href="#..."); any other link made of the text is live.
    links = page.locator('a[href*="evil"]:not([href^="#"])')
    assert links.count() == 0, "a live link"
    assert page.locator('img[src*="127.0.0.1:9"]').count() == 0, "an image element"
    assert not [url for url in visit.refused if "127.0.0.1:9" in url], visit.refused


def test_a_column_header_in_a_load_note_is_text(hostile) -> None:
    page = hostile.page
    open_page(page, "Data")
    choose(page, "See the report of a load", f"#1 orders.csv ({_loaded_at(page)})")
    page.get_by_text("were read day-first").first.wait_for()
    assert_shown_as_text(hostile, f"Dates in '{IMAGE}'")


def _loaded_at(page) -> str:
    """The load time the history table shows for the only load (YYYY-MM-DD HH:MM)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("See the report of a load", exact=True)
    )
    box.locator("input").click()
    option = page.get_by_role("option").first.inner_text()
    page.keyboard.press("Escape")
    return option.split("(", 1)[1].rstrip(")")


def test_a_customer_id_in_explain_one_customer_is_text(hostile) -> None:
    page = hostile.page
    open_page(page, "RFM studio")
    box = page.locator('[data-testid="stTextInput"]').filter(has_text="Customer id or email")
    box.locator("input").fill(LINK)
    box.locator("input").press("Enter")
    page.get_by_role("heading").filter(has_text="evil.example").wait_for()
    assert_shown_as_text(hostile, LINK)


def test_an_imported_schemes_rule_and_segment_names_are_text(hostile) -> None:
    page = hostile.page
    open_page(page, "Segments")
    choose(page, "Segment scheme", "hostile (custom)")
    wait_idle(page)
    page.get_by_text("How these numbers are computed").click()
    page.get_by_text("Rule ", exact=False).first.wait_for()
    assert_shown_as_text(hostile, f"Rule {IMAGE} {LINK}")
    assert page.locator("a").filter(has_text="Click").count() == 0
