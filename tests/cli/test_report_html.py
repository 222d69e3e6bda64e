"""Issue 17 #6: ``report --format html`` writes one self-contained report to share.

The store below is small enough to work every figure out by hand (comments); the analysis date
is its latest order, 2024-03-31, and money is in EUR.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from acquisition.test_maturity_effort import AS_OF, SPEND, write_store

from dashboard import cli, report_html
from dashboard.playbook import find_entry
from dashboard.predict import pipeline
from dashboard.rfm import schemes

ORDERS = [
    # ann: 100.00 + 50.00, first order with the code "vip"; last order 30 days before 03-31.
    {"order_id": "1", "customer_id": "ann", "ordered_at": "2024-01-10 10:00:00",
     "order_total": "100.00", "discount_code": "vip"},
    {"order_id": "2", "customer_id": "ann", "ordered_at": "2024-03-01 10:00:00",
     "order_total": "50.00"},
    # bob: 30.00, 59 days before; cat: 20.00 on the analysis date.
    {"order_id": "3", "customer_id": "bob", "ordered_at": "2024-02-01 10:00:00",
     "order_total": "30.00"},
    {"order_id": "4", "customer_id": "cat", "ordered_at": "2024-03-31 10:00:00",
     "order_total": "20.00"},
    # A guest order: in the store's totals, in no segment or channel.
    {"order_id": "5", "customer_id": None, "ordered_at": "2024-02-15 10:00:00",
     "order_total": "40.00"},
]  # fmt: skip
# Three scores on the R x F grid; the most recent third (R = 3) is "<b>Best</b>".
SCHEME = {
    "name": "Tiny <i>scheme</i>",
    "n_scores": 3,
    "grid": "r_f",
    "segments": {
        "<b>Best</b>": ["31", "32", "33"],
        "Rest": ["11", "12", "13", "21", "22", "23"],
    },
}
RULES = "priority,field,match,pattern,channel\n1,discount_code,exact,vip,<b>Partners</b>\n"


def run_report(workspace: Path, dataset: str, out: Path, *extra: str) -> int:
    argv = ["report", "--workspace", str(workspace), "--dataset", dataset, "--out", str(out)]
    return cli.main([*argv, *extra])


def row(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def visible_html(text: str) -> str:
    """The report without its scripts (plotly.js and the figures' data)."""
    return re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)


@pytest.fixture
def shop(workspace: Path, make_dataset: Callable[..., str], tmp_path: Path) -> Path:
    make_dataset("shop", ORDERS)
    (tmp_path / "scheme.json").write_text(json.dumps(SCHEME), encoding="utf-8")
    (tmp_path / "rules.csv").write_text(RULES, encoding="utf-8")
    return workspace


def test_html_report_holds_the_hand_computed_figures(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "store-report.html"
    extra = ["--format", "html", "--scheme", str(tmp_path / "scheme.json")]
    assert run_report(shop, "shop", out, *extra, "--rules", str(tmp_path / "rules.csv")) == 0
    text = out.read_text(encoding="utf-8")
    shown = visible_html(text)
    assert (
        "Dataset shop · analysis date 2024-03-31 · scheme Tiny &lt;i&gt;scheme&lt;/i&gt;" in shown
    )
    assert "generated at " in shown
    # 3 customers with a valid order; 5 valid orders (guest included), 240.00, AOV 240 / 5.
    for label, value in [
        ("Customers with a valid order", "3"),
        ("Valid orders", "5"),
        ("Net revenue", "€240.00"),
        ("Average order value", "€48.00"),
        ("Analysis date", "2024-03-31"),
    ]:
        assert f'<div class="label">{label}</div><div class="value">{value}</div>' in shown
    # Quantile R scores: cat (0 days) 3, ann (30) 2, bob (59) 1. Customer revenue 200.00.
    # Best = cat: 1 of 3, 20 / 200 = 10 %, AOV 20, per customer 20.
    # Rest = ann + bob: 2 of 3, 180 / 200 = 90 %, AOV 180 / 3 orders = 60, per customer 90.
    assert row("&lt;b&gt;Best&lt;/b&gt;", "1", "33.3%", "10.0%", "€20.00", "€20.00") in shown
    assert row("Rest", "2", "66.7%", "90.0%", "€60.00", "€90.00") in shown
    # Channels: ann by her code (150.00 of 200.00, 2 orders); bob and cat unattributed.
    assert (
        row("&lt;b&gt;Partners&lt;/b&gt;", "1", "33.3%", "€150.00", "75.0%", "€75.00", "100.0%")
        in shown
    )
    assert row("Unattributed", "2", "66.7%", "€50.00", "25.0%", "€25.00", "0.0%") in shown
    # Names from the data never become markup, in the page or in the charts' data.
    assert "<b>Best</b>" not in text and "<b>Partners</b>" not in text
    assert "<i>scheme</i>" not in text
    # Self-contained: plotly.js inline exactly once, nothing loaded from anywhere.
    assert len(re.findall(r"plotly\.js v\d", text)) == 1
    assert text.count('class="plotly-graph-div"') == 3
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.I)
    assert not re.search(r"<link\b", text, flags=re.I)
    assert not re.search(r"<(img|iframe)\b", text, flags=re.I)
    # Maturity of March 2024: returning ann's 50.00 of 20 + 50 = 71.4 % of revenue, 1 of 2 orders.
    assert row("Returning customers&#x27; share of revenue", "71.4%") in shown
    assert row("Returning customers&#x27; share of orders", "50.0%") in shown
    # Predictions: ann bought twice, so the models fit; all 3 customers get one.
    assert "Predicted revenue, next 365 days" in shown
    assert '<div class="label">Customers with a prediction</div><div class="value">3</div>' in shown


def test_predictions_absent_say_why(
    workspace: Path, make_dataset: Callable[..., str], tmp_path: Path
) -> None:
    once = [o for o in ORDERS if o["order_id"] != "2"]
    make_dataset("once", once)
    out = tmp_path / "once.html"
    assert run_report(workspace, "once", out, "--format", "html") == 0
    shown = visible_html(out.read_text(encoding="utf-8"))
    assert "Predicted revenue" not in shown
    assert '<p class="note">No predictions: ' in shown
    # Orders 1, 3, 4, 5: 190.00 over 4 valid orders.
    assert '<div class="label">Net revenue</div><div class="value">€190.00</div>' in shown
    assert '<div class="label">Average order value</div><div class="value">€47.50</div>' in shown


def test_default_format_is_still_json(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert run_report(shop, "shop", out) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["store"]["orders"] == 5
    assert report["store"]["revenue"] == 240.0


def test_playbook_of_the_top_segments(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "shopify.html"
    assert run_report(shop, "shop", out, "--format", "html") == 0
    shown = visible_html(out.read_text(encoding="utf-8"))
    scheme = schemes.PRESETS[schemes.DEFAULT_SCHEME]
    names = re.findall(r'<div class="playbook"><h4>(.*?)</h4>', shown)
    assert 1 <= len(names) <= report_html.TOP_SEGMENTS
    for name in names:
        entry = find_entry("rfm", scheme.key, html.unescape(name), scheme.segments)
        assert entry is not None
        assert f"<b>Goal.</b> {html.escape(entry.goal)}" in shown


def test_top_segments_by_scale() -> None:
    ranked = pd.DataFrame(
        {"segment": ["B", "A", "E", "D"], "size": [3, 5, 4, 2], "scale_score": [0.9, 0.7, 0.7, 0.1]}
    )
    # In the SCALE ranking's order (ties as ranked), not by size or revenue.
    assert report_html.pick_top_segments(ranked) == ["B", "A", "E"]


# Issue 17: the playbook of the top segments by SCALE. Analysis date 2024-06-30; quantile R
# scores of the recencies g 0, b 5 | a 10, c 41 | d 51, e 162 days.
BY_RECENCY_ORDERS = [
    ("1", "a", "2024-01-05", "100.00", "DE"),
    ("2", "a", "2024-06-20", "100.00", "DE"),
    ("3", "b", "2024-06-25", "50.00", "FR"),
    ("4", "c", "2024-02-10", "60.00", "DE"),
    ("5", "c", "2024-05-20", "30.00", "DE"),
    ("6", "d", "2024-05-10", "40.00", "DE"),
    ("7", "e", "2024-01-20", "20.00", "DE"),
    ("8", "g", "2024-06-30", "30.00", "FR"),
]
BY_RECENCY = {
    "name": "By recency",
    "n_scores": 3,
    "grid": "r_f",
    "segments": {
        "Recent": ["31", "32", "33"],
        "Needs attention": ["21", "22", "23"],
        "At risk": ["11", "12", "13"],
    },
}


def test_playbook_of_the_top_segments_in_scale_order(
    workspace: Path, make_dataset: Callable[..., str], tmp_path: Path
) -> None:
    rows = [
        {"order_id": o, "customer_id": c, "ordered_at": f"{d} 10:00:00", "order_total": t,
         "country": country}
        for o, c, d, t, country in BY_RECENCY_ORDERS
    ]  # fmt: skip
    make_dataset("recency", rows, customers=["a", "b", "c", "d", "e", "g"])
    (tmp_path / "scheme.json").write_text(json.dumps(BY_RECENCY), encoding="utf-8")
    out = tmp_path / "recency.html"
    extra = ["--format", "html", "--scheme", str(tmp_path / "scheme.json")]
    assert run_report(workspace, "recency", out, *extra) == 0
    shown = visible_html(out.read_text(encoding="utf-8"))
    # Recent g, b: AOV 80 / 2 = 40, both FR, first orders in June. Needs attention a, c: AOV
    # 290 / 4 = 72.50, DE, first orders 01-05 and 02-10. At risk d, e: AOV 30, DE, first
    # orders 05-10 and 01-20. Home DE; the first three months end 2024-04-04; no consent or
    # channel known. Size: 1 each; Currency 10 / 42.5, 1, 0; Access (local) 0, 1, 1; Love 1 each;
    # Early (0, 1, 1/2) 0, 1, 0.5. SCALE: Needs attention 1, At risk 3.5 / 5 = 0.70, Recent
    # (2 + 0.235) / 5 = 0.45, although Recent has more revenue (18.6 %) than At risk (14.0 %).
    assert "the playbook of the top 3 segments by SCALE" in shown
    assert row("Needs attention", "1.00", "1.00", "1.00", "1.00", "1.00", "1.00") in shown
    assert row("At risk", "0.70", "1.00", "0.00", "1.00", "1.00", "0.50") in shown
    assert row("Recent", "0.45", "1.00", "0.24", "0.00", "1.00", "0.00") in shown
    names = re.findall(r'<div class="playbook"><h4>(.*?)</h4>', shown)
    assert names == ["Needs attention", "At risk", "Recent"]
    assert html.escape(report_html.SCALE_NOTE) in shown
    assert "every letter weighted 1 and Love 5 for every segment" in report_html.SCALE_NOTE


def test_maturity_holds_the_effort_verdict_with_spend(workspace: Path, tmp_path: Path) -> None:
    write_store(workspace, "tagged", SPEND)
    out = tmp_path / "tagged.html"
    assert run_report(workspace, "tagged", out, "--format", "html", "--as-of", str(AS_OF)) == 0
    shown = visible_html(out.read_text(encoding="utf-8"))
    # The sentences of tests/acquisition/test_maturity_effort.py's store, worked out there.
    assert (
        "<li><b>Spend.</b> You spend 4% on retention (from January 2025 to February 2025); a "
        "store at this stage should spend about 5-25%: move budget to retention.</li>"
    ) in shown
    assert (
        "<li><b>Direct.</b> 30% of the 10 new customers from January 2025 to February 2025 "
        "came direct"
    ) in shown
    assert (
        "<li><b>Budget.</b> Acquisition money works hardest in 1. Paid Social (no CLV : CAC, "
        "CAC 40.00); 2. Paid Search (no CLV : CAC, CAC 50.00).</li>"
    ) in shown


def test_prediction_headline_by_hand() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "predicted_clv": [10.25, 4.50, None, 0.10],
            "churn_band": ["High", "Low", "High", "Medium"],
        }
    )
    settings = pipeline.PredictionSettings(horizon_days=180, churn_days=60)
    headline = report_html.summarise_predictions(scored, settings)
    # c has no prediction: 3 customers, 10.25 + 4.50 + 0.10 = 14.85, 1 of 3 in High.
    assert headline.customers == 3
    assert headline.predicted_revenue == pytest.approx(14.85)
    assert headline.share_high_churn == pytest.approx(1 / 3)
    assert (headline.horizon_days, headline.churn_days) == (180, 60)
