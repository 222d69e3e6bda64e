"""Relational exports: orders, order lines and customers in separate files (Olist and the like).

Ingest loads one file per call, in any order, so each rule below is applied by whichever file
arrives second, inside that file's transaction (docs/ingest.md §2.8):

- **Totals from lines.** An orders file without a total column stores each order with
  ``total_from_lines`` true and ``order_total`` = the sum of its stored lines' LINE_AMOUNT, or 0
  while it has none (``join_line_totals`` at the orders' load). An order lines file loaded later
  sets the totals of those orders from all their stored lines (``fill_order_totals``). An order
  whose file gave a total is never changed by lines.
- **Person keys.** A customers file that maps a person key beside its customer key (Olist:
  ``customer_unique_id`` beside the per-order ``customer_id``) stores one customer per person
  and each other key in ``customer_aliases`` (alias -> person). Orders loaded earlier under an
  alias are moved to the person's key (``record_aliases``); orders loaded later are keyed by
  the person at their load (``join_aliases``).
"""

from __future__ import annotations

import duckdb

# One line's part of its order's total; a line without a quantity is one unit.
LINE_AMOUNT = "coalesce(price, 0) * coalesce(quantity, 1) + coalesce(freight, 0)"
_LINE_TOTALS = f"""
    SELECT order_id AS lines_order_id, CAST(sum({LINE_AMOUNT}) AS DECIMAL(18, 2)) AS line_total
    FROM order_lines GROUP BY order_id
"""
ALIAS_ROWS = "alias_rows"


def needs_staged_load(con: duckdb.DuckDBPyConnection, positions: dict[str, int]) -> bool:
    """Whether a mapped orders file must take the staged load rather than the one-pass load:
    its totals come from lines, or its customer keys may be aliases of a person."""
    return "order_total" not in positions or has_aliases(con)


def has_aliases(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the open dataset holds any customer alias."""
    return con.execute("SELECT count(*) > 0 FROM customer_aliases").fetchone()[0]


def join_line_totals(source: str, order_id: str) -> str:
    """Return ``source`` (a table or subquery of file rows) with ``line_total``: the sum of
    LINE_AMOUNT over the stored lines of the row's order (``order_id``, SQL over the row), NULL
    when none is stored."""
    return (
        f"(SELECT r.*, t.line_total FROM {source} r "
        f"LEFT JOIN ({_LINE_TOTALS}) t ON t.lines_order_id = {order_id})"
    )


def join_aliases(source: str, customer_key: str) -> str:
    """Return ``source`` with ``alias_customer``: the person whose alias ``customer_key`` (SQL
    over the row) is, NULL when it is no alias."""
    return (
        f"(SELECT r.*, a.customer_id AS alias_customer FROM {source} r "
        f"LEFT JOIN customer_aliases a ON a.alias = {customer_key})"
    )


def note_totals_from_lines(con: duckdb.DuckDBPyConnection, order_id: str, label: str) -> str:
    """Say, for an orders file without a total column staged as ``order_rows`` over a source
    with ``line_total``, how many of its orders took their total from lines already stored and
    how many still have none."""
    with_lines, without = con.execute(
        f"""
        SELECT count(DISTINCT {order_id}) FILTER (WHERE line_total IS NOT NULL),
               count(DISTINCT {order_id}) FILTER (WHERE line_total IS NULL)
        FROM {join_line_totals("raw_rows", order_id)}
        """
    ).fetchone()
    return (
        f"The file has no order total column: each order's total is the sum of its order lines "
        f"(price x quantity + freight), matched on '{label}'. {with_lines:,} orders took it from "
        f"lines already loaded; {without:,} have no lines yet and are stored with a total of 0 "
        "until their order lines file is loaded (meanwhile RFM does not count them as "
        "purchases)."
    )


def note_aliased_orders(con: duckdb.DuckDBPyConnection, customer_key: str) -> str | None:
    """Say how many rows of the staged orders file are keyed by a person through an alias."""
    rows = con.execute(
        f"SELECT count(*) FROM {join_aliases('raw_rows', customer_key)} "
        "WHERE alias_customer IS NOT NULL"
    ).fetchone()[0]
    if not rows:
        return None
    return (
        f"{rows:,} orders are keyed by their person's id instead of their per-order customer "
        "key, as the customers file loaded earlier maps them, so one person's orders are one "
        "customer."
    )


def fill_order_totals(con: duckdb.DuckDBPyConnection, ingest_id: int) -> list[str]:
    """Set, from all their stored lines, the totals of the orders without a total of their own
    that the order lines of ingest ``ingest_id`` belong to; return the notes on it."""
    filled = con.execute(
        f"""
        UPDATE orders SET order_total = t.line_total,
                          net_total = CAST(t.line_total - orders.refunded_amount
                                           AS DECIMAL(18, 2))
        FROM ({_LINE_TOTALS}) t
        WHERE orders.order_id = t.lines_order_id AND orders.total_from_lines
          AND orders.order_total IS DISTINCT FROM t.line_total
          AND t.lines_order_id IN (SELECT order_id FROM order_lines WHERE ingest_id = ?)
        """,
        [ingest_id],
    ).fetchone()[0]
    notes = []
    if filled:
        notes.append(
            f"The totals of {filled:,} orders were set from these lines (price x quantity + "
            "freight): their orders file has no total."
        )
    missing = note_orders_without_total(con)
    return [*notes, *([missing] if missing else [])]


def note_orders_without_total(con: duckdb.DuckDBPyConnection) -> str | None:
    """Say how many orders of the dataset have no total yet: their orders file had none and no
    line of theirs is loaded."""
    missing = con.execute(
        """
        SELECT count(*) FROM orders o WHERE o.total_from_lines
          AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.order_id)
        """
    ).fetchone()[0]
    if not missing:
        return None
    return (
        f"{missing:,} orders of the dataset still have no total: their orders file has none and "
        "no order line of theirs is loaded, so they are stored with a total of 0 and RFM does "
        "not count them as purchases. Load their order lines file to fill them."
    )


def stage_aliases(con: duckdb.DuckDBPyConnection, alias: str, person: str) -> None:
    """Keep, from ``raw_rows``, each row's customer key (``alias``, SQL) and person key
    (``person``, SQL) as the TEMP TABLE ALIAS_ROWS (line_number, alias, person), for
    ``record_aliases`` once the raw cells are released."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ALIAS_ROWS} AS "
        f"SELECT line_number, {alias} AS alias, {person} AS person FROM raw_rows"
    )


def record_aliases(con: duckdb.DuckDBPyConnection, ingest_id: int) -> list[str]:
    """Store ALIAS_ROWS' new aliases (a customer key that is not its person's key; the first
    row's person when rows disagree) under ingest ``ingest_id``, move the orders stored under
    an alias to its person, and return the notes on both."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE new_aliases AS
        SELECT alias, arg_min(person, line_number) AS person,
               count(DISTINCT person) > 1 AS is_ambiguous
        FROM {ALIAS_ROWS}
        WHERE alias IS NOT NULL AND person IS NOT NULL AND alias <> person
        GROUP BY alias
        """
    )
    ambiguous, taken = con.execute(
        """
        SELECT count(*) FILTER (WHERE is_ambiguous),
               count(*) FILTER (WHERE s.customer_id IS DISTINCT FROM n.person
                                  AND s.alias IS NOT NULL)
        FROM new_aliases n LEFT JOIN customer_aliases s ON s.alias = n.alias
        """
    ).fetchone()
    con.execute(
        """
        INSERT INTO customer_aliases (alias, customer_id, ingest_id)
        SELECT alias, person, ? FROM new_aliases n
        WHERE NOT EXISTS (SELECT 1 FROM customer_aliases s WHERE s.alias = n.alias)
        ORDER BY alias
        """,
        [ingest_id],
    )
    moved = con.execute(
        """
        UPDATE orders SET customer_id = a.customer_id FROM customer_aliases a
        WHERE orders.customer_id = a.alias
        """
    ).fetchone()[0]
    notes = []
    if moved:
        notes.append(
            f"{moved:,} orders loaded earlier under a per-order customer key now belong to "
            "their person's key from this file, so one person's orders are one customer."
        )
    if ambiguous or taken:
        notes.append(
            f"{ambiguous + taken:,} customer keys are given to more than one person (in this "
            "file, or by a customers file loaded earlier); each keeps the person it was first "
            "given."
        )
    return notes
