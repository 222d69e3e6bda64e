"""Shared fixtures: a temporary workspace, a writer of tiny canonical datasets, the demo store.

Fixtures only; each test module keeps its own helpers. Add fixtures, do not change existing ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard.workspace import store

# Columns a test may give for one order; the rest are filled in by ``make_dataset``.
_ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "net_total",
    "currency",
    "discount_code",
    "is_cancelled",
    "country",
    "ingest_id",
)
_INSERT_ORDER = (
    f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _ORDER_COLUMNS)})"
)
_INSERT_CUSTOMER = "INSERT INTO customers (customer_id, email, ingest_id) VALUES (?, ?, 1)"


def _order_row(order: Mapping[str, object]) -> tuple[object, ...]:
    total = Decimal(str(order["order_total"]))
    refunded = Decimal(str(order.get("refunded_amount", "0")))
    net = Decimal(str(order.get("net_total", total - refunded)))
    ordered_at = order["ordered_at"]
    if isinstance(ordered_at, str):
        ordered_at = dt.datetime.fromisoformat(ordered_at)
    values = {
        "order_id": order["order_id"],
        "customer_id": order.get("customer_id"),
        "ordered_at": ordered_at,
        "order_total": total,
        "refunded_amount": refunded,
        "net_total": net,
        "currency": order.get("currency", "EUR"),
        "discount_code": order.get("discount_code"),
        "is_cancelled": bool(order.get("is_cancelled", False)),
        "country": order.get("country"),
        "ingest_id": 1,
    }
    return tuple(values[c] for c in _ORDER_COLUMNS)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory."""
    return store.resolve_workspace(tmp_path / "workspace")


@pytest.fixture
def make_dataset(workspace: Path) -> Callable[..., str]:
    """Return ``make(name, orders, customers=())`` that writes a dataset and returns its name.

    ``orders`` are dicts with order_id, customer_id, ordered_at (datetime or ISO text),
    order_total and optionally refunded_amount (default 0), net_total (default total - refunded),
    is_cancelled, currency, discount_code, country. ``customers`` are customer ids for the
    customers table. Values are bound parameters; money is DECIMAL(18, 2).
    """

    def make(
        name: str, orders: Iterable[Mapping[str, object]], customers: Iterable[str] = ()
    ) -> str:
        with store.open_for_write(workspace, name) as con:
            con.begin()
            rows = [_order_row(o) for o in orders]
            if rows:
                con.executemany(_INSERT_ORDER, rows)
            ids = list(customers)
            if ids:
                con.executemany(_INSERT_CUSTOMER, [(c, f"{c}@example.com") for c in ids])
            con.commit()
        return name

    return make


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo store (seed 7), generated once per session and ingested like ``make demo``.

    Returns (workspace, dataset name). Fails (does not skip) when the demo store or ingest
    is missing.
    """
    from dashboard import ingest
    from dashboard.demo.files import write_demo_files

    root = tmp_path_factory.mktemp("demo")
    files = write_demo_files(root / "files", seed=7)
    workspace = store.resolve_workspace(root / "workspace")
    ingest.ingest_file(workspace, "demo", files.orders, file_format="shopify-orders")
    ingest.ingest_file(workspace, "demo", files.customers, file_format="shopify-customers")
    return workspace, "demo"
