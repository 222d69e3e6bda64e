"""UTM tags, click ids, referrers and landing sites read from a Shopify orders export.

Tracking apps and Shopify write them in several places (docs/acquisition.md §1): ``key: value``
lines of Note Attributes, JSON inside a note line (Elevar's ``_elevar_visitor_info``), the query
string of a landing URL, and the ``Referring Site`` / ``Landing Site`` columns of an export built
from the Admin API. Each expected value is read off the cells written below.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from tracking_export import SIX_CUSTOMERS, write_export

from dashboard import ingest
from dashboard.workspace import store

EVIDENCE = "utm_source, utm_medium, utm_campaign, referrer, landing_site, click_id"


def stored(workspace: Path, dataset: str) -> dict[str, tuple]:
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        rows = con.execute(f"SELECT customer_id, {EVIDENCE} FROM orders").fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in rows}


def test_note_attributes_json_and_landing_urls_are_read(workspace: Path, tmp_path: Path) -> None:
    path = write_export(tmp_path / "orders_export.csv", SIX_CUSTOMERS)
    report = ingest.ingest_file(workspace, "six", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 6, 0)
    assert stored(workspace, "six") == {
        # JSON inside a note line; "fbclid": null and "gclid": "" are no click id
        "json@example.com": ("facebook", "paidsocial", "spring_sale", None, None, None),
        "lines@example.com": ("attentive", "text", None, None, None, None),
        # the landing URL's query string, URL-decoded ('+' is a space)
        "landing@example.com": (
            "newsletter",
            "email",
            "may drop!",
            None,
            "/collections/all?utm_source=newsletter&utm_medium=email&utm_campaign=may+drop%21",
            None,
        ),
        # only the click id's name is kept, never the id
        "fbclid@example.com": (
            None,
            None,
            None,
            None,
            "https://shop.example/products/mug?fbclid=IwAR0xyz",
            "fbclid",
        ),
        "web@example.com": (None, None, None, None, None, None),
        "code@example.com": (None, None, None, None, None, None),
    }


def test_referring_and_landing_site_columns_are_kept_apart(workspace: Path, tmp_path: Path) -> None:
    orders = [
        {"Email": "a@example.com", "Landing Site": "/", "Referring Site": ""},
        {
            "Email": "b@example.com",
            "Landing Site": "/?gclid=Cj0KCQ&utm_source=google",
            "Referring Site": "https://www.google.com/",
        },
        # a Latin-1 %-sequence is not UTF-8: kept as written, the load does not fail
        {"Email": "c@example.com", "Landing Site": "/?utm_campaign=caf%E9", "Notes": ""},
        # a URL pasted in the order's notes
        {"Email": "d@example.com", "Notes": "from https://x.example/?utm_source=podcast ok"},
    ]
    path = write_export(tmp_path / "api_export.csv", orders, ("Referring Site", "Landing Site"))
    ingest.ingest_file(workspace, "api", path)
    assert stored(workspace, "api") == {
        "a@example.com": (None, None, None, None, "/", None),
        "b@example.com": (
            "google",
            None,
            None,
            "https://www.google.com/",
            "/?gclid=Cj0KCQ&utm_source=google",
            "gclid",
        ),
        "c@example.com": (None, None, "caf%E9", None, "/?utm_campaign=caf%E9", None),
        "d@example.com": ("podcast", None, None, None, None, None),
    }
