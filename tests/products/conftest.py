"""Fixtures of the product analyses: order lines written next to ``make_dataset``'s orders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard.workspace import store

_LINE_COLUMNS = ("order_id", "line_number", "product", "sku", "quantity", "price", "category")
_INSERT_LINE = (
    f"INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)}, ingest_id) "
    f"VALUES ({', '.join('?' for _ in _LINE_COLUMNS)}, 1)"
)


@pytest.fixture
def make_lines(workspace: Path) -> Callable[..., None]:
    """Return ``make(name, lines)`` that adds order lines to the dataset ``name``.

    ``lines`` are dicts with order_id and product and/or sku, optionally quantity (default 1),
    price (text or number, default null) and category; lines are numbered 1..n per order in the
    order given. Values are bound parameters.
    """

    def make(name: str, lines: Iterable[Mapping[str, object]]) -> None:
        numbers: dict[str, int] = {}
        rows = []
        for line in lines:
            order_id = str(line["order_id"])
            numbers[order_id] = numbers.get(order_id, 0) + 1
            price = line.get("price")
            rows.append(
                (
                    order_id,
                    numbers[order_id],
                    line.get("product"),
                    line.get("sku"),
                    line.get("quantity", 1),
                    None if price is None else Decimal(str(price)),
                    line.get("category"),
                )
            )
        with store.open_for_write(workspace, name) as con:
            con.begin()
            con.executemany(_INSERT_LINE, rows)
            con.commit()

    return make
