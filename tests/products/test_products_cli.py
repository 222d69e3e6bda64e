"""The ``products`` command end to end (docs/products.md, "CLI"; issue 16 item 7).

Every expected number is worked out by hand in the comments next to it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard import cli

ORDERS = [
    {"order_id": "1", "customer_id": "A", "ordered_at": "2024-01-05 10:00", "order_total": "30"},
    {"order_id": "2", "customer_id": "A", "ordered_at": "2024-02-04 10:00", "order_total": "25"},
    {"order_id": "3", "customer_id": "B", "ordered_at": "2024-01-10 10:00", "order_total": "30"},
    {"order_id": "4", "customer_id": "B", "ordered_at": "2024-03-10 10:00", "order_total": "18"},
    {"order_id": "5", "customer_id": None, "ordered_at": "2024-01-12 10:00", "order_total": "30"},
    {"order_id": "6", "customer_id": "C", "ordered_at": "2024-02-01 10:00", "order_total": "7"},
]
LINES = [
    {"order_id": "1", "sku": "BEAN", "product": "Beans", "price": "18"},
    {"order_id": "1", "sku": "MUG", "product": "Mug", "price": "12"},
    {"order_id": "2", "sku": "BEAN", "product": "Beans", "price": "18"},
    {"order_id": "2", "sku": "FILTER", "product": "Filters", "price": "7"},
    {"order_id": "3", "sku": "BEAN", "product": "Beans", "price": "18"},
    {"order_id": "3", "sku": "MUG", "product": "Mug", "price": "12"},
    {"order_id": "4", "sku": "BEAN", "product": "Beans", "price": "18"},
    {"order_id": "5", "sku": "BEAN", "product": "Beans", "price": "18"},
    {"order_id": "5", "sku": "MUG", "product": "Mug", "price": "12"},
    {"order_id": "6", "sku": "FILTER", "product": "Filters", "price": "7"},
]


@pytest.fixture
def shop(workspace: Path, make_dataset, make_lines) -> Path:
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)
    return workspace


def run(workspace: Path, out: Path, *extra: str) -> int:
    argv = ["products", "--workspace", str(workspace), "--dataset", "shop", "--out-dir", str(out)]
    return cli.main([*argv, "--as-of", "2024-03-31", *extra])


def test_products_writes_five_files_without_abandoned_checkouts(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(shop, out, "--min-orders", "2", "--horizon-days", "30") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bright_spots.csv",
        "gateway.csv",
        "pairs.csv",
        "replenishment.csv",
        "retention.csv",
    ]
    pairs = pd.read_csv(out / "pairs.csv")
    assert list(pairs.columns[:7]) == [
        "product_a",
        "product_b",
        "orders",
        "support",
        "confidence_a_b",
        "confidence_b_a",
        "lift",
    ]
    # BEAN+MUG in orders 1, 3 and the guest's 5 (guests count); BEAN+FILTER once: below 2.
    assert pairs[["product_a", "product_b", "orders"]].values.tolist() == [["BEAN", "MUG", 3]]
    pair = pairs.iloc[0]
    # 6 orders; BEAN in 5, MUG in 3: support 3/6, confidences 3/5 and 3/3, lift 0.5/(5/6 * 3/6)
    assert pair.support == pytest.approx(0.5)
    assert (pair.confidence_a_b, pair.confidence_b_a) == pytest.approx((0.6, 1.0))
    assert pair.lift == pytest.approx(1.2)

    gateway = pd.read_csv(out / "gateway.csv")
    products = gateway[gateway.by == "product"].set_index("key")
    # Cohort: first order on or before 2024-03-01 (A, B, C). A's second order is 30 days after
    # the first (counts); B's 60 days (does not); C never came back.
    assert products.loc["BEAN", ["customers", "reordered"]].tolist() == [2, 1]
    assert products.loc["FILTER", ["customers", "reordered"]].tolist() == [1, 0]
    assert set(gateway.by) == {"product", "category", "channel"}

    retention = pd.read_csv(out / "retention.csv")
    # Jan: A, B new; Feb: A again (retained 1 of 2), C new; Mar: B (none of Feb's A, C).
    assert retention.active_customers.tolist() == [2, 2, 1]
    assert retention.new_customers.tolist() == [2, 1, 0]
    assert retention.retention_rate.tolist()[1:] == [0.5, 0.0]
    # Nobody has 5 repeat pairs of one product: the cycles file has its header only.
    assert pd.read_csv(out / "replenishment.csv").empty


def test_an_unknown_segment_is_one_sentence(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(shop, tmp_path / "out", "--segment", "Nobody") == 2
    err = capsys.readouterr().err
    assert "'Nobody' is not a segment of this scheme" in err and "Traceback" not in err


def test_a_dataset_without_order_lines_is_one_sentence(
    workspace: Path, make_dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dataset("shop", ORDERS)
    assert run(workspace, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "has no order lines" in err and "Traceback" not in err


def test_abandoned_checkouts_with_lines_add_abandoned_csv(shop: Path, tmp_path: Path) -> None:
    import datetime as dt
    from decimal import Decimal

    from dashboard.workspace import store

    with store.open_for_write(shop, "shop") as con:
        con.begin()
        con.executemany(
            "INSERT INTO abandoned_checkouts (checkout_id, customer_id, created_at, total,"
            " currency, ingest_id) VALUES (?, ?, ?, ?, 'EUR', 2)",
            [
                ("K1", "A", dt.datetime(2024, 2, 1, 9), Decimal("36")),
                ("K2", None, dt.datetime(2024, 3, 20, 9), Decimal("12")),
            ],
        )
        con.executemany(
            "INSERT INTO checkout_lines (checkout_id, line_number, product, sku, quantity, price,"
            " ingest_id) VALUES (?, ?, ?, ?, ?, ?, 2)",
            [
                ("K1", 1, "Beans", "BEAN", 2, Decimal("18")),
                ("K2", 1, "Mug", "MUG", 1, Decimal("12")),
            ],
        )
        con.commit()
    out = tmp_path / "out"
    assert run(shop, out) == 0
    left = pd.read_csv(out / "abandoned.csv")
    by_product = left[left.by == "product"].set_index("key")
    # K1: 2 x 18 of BEAN left by A, who ordered again on 02-04 (recovered); K2: a guest's mug.
    assert by_product.loc["BEAN", ["checkouts", "units", "value_left", "recovered"]].tolist() == [
        1,
        2,
        36.0,
        1,
    ]
    assert by_product.loc["MUG", ["checkouts", "customers", "recovered"]].tolist() == [1, 0, 0]
    assert set(left.by) == {"product", "category", "channel"}
    assert "Anonymous" in set(left[left.by == "channel"].key)
