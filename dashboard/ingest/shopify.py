"""Shopify exports: orders (one row per line item), customers, and abandoned checkouts.

Columns are found by name, never by position, so every header generation works (orders: 73, 78
and 79 columns; customers: before 2019, 2021-2023 and 2023+). Rules (docs/ingest.md §2.1-2.2):

Orders: one order per ``Name``; order-level columns come from the order's first row that has a
``Total`` (Shopify fills them on the first line-item row only). customer_id = lower(trim(Email))
(guest orders have none); ``Created at`` is kept as the local time written (offset dropped);
cancelled = ``Cancelled at`` is set or ``Financial Status`` is ``voided`` (a voided payment is
no sale, even on an order that was never cancelled); refunded = ``Refunded Amount`` (empty = 0);
country = Billing Country, else Shipping Country; utm_source / utm_medium / utm_campaign,
referrer, landing_site and click_id come from Note Attributes (lines or a tracking app's JSON),
landing URLs, Notes and the Referring Site / Landing Site columns (``_tracking_expressions``),
channel from a ``Channel: x`` note line. Each row with a ``Lineitem name`` becomes an order
line numbered 1..n in file order; category = the product name before " - "
(``Ceramic Mug - Sand`` -> ``Ceramic Mug``), else the Vendor.

Customers: customer_id = lower(trim(Email)), else the Customer ID (with a warning: such a
customer cannot be matched to orders, which are keyed by e-mail).

Abandoned checkouts: older exports lack the order-only columns (no ``Financial Status``); a
current one has the orders export's very header, so ``tell_orders_from_checkouts`` reads its
values: ``Name`` is ``#`` and a checkout id of 10 or more digits (an order's is a short
number), ``Financial Status`` and ``Paid at`` are empty, and the file name may say "checkout".
One checkout per ``Name`` (kept as written as checkout_id), read from its first row with a
``Total`` like an order: customer_id = lower(trim(Email)), created_at = ``Created at`` (local
time), total, currency, source_name = ``Source``. Each row with a ``Lineitem name`` becomes a
checkout line (``checkout_lines``) numbered 1..n in file order, like an order's, stored with its
checkout when the checkout is new.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import MISSING, column
from dashboard.ingest.load_customers import CustomerSource, create_customer_rows
from dashboard.ingest.load_orders import OrderSource, create_line_rows, create_order_rows
from dashboard.ingest.report import IngestError
from dashboard.ingest.tables import Check, TableSource, create_table_rows, timestamp_checks
from dashboard.ingest.validation import note_rounded_ids

_CHECKOUTS_SIGNATURE = {"name", "email", "created at", "lineitem name", "total"}
_ORDERS_SIGNATURE = _CHECKOUTS_SIGNATURE | {"financial status"}
_CUSTOMERS_SIGNATURE = {"first name", "last name", "email", "total spent", "total orders"}
_ORDERS_REQUIRED = ("Name", "Email", "Created at", "Total")
_REQUIRED = {
    "shopify-orders": ("orders", _ORDERS_REQUIRED),
    "shopify-checkouts": ("abandoned checkouts", _ORDERS_REQUIRED),
    "shopify-customers": ("customers", ("Email",)),
}
Cell = Callable[..., str]
_CHECKOUT_NAME = re.compile(r"#?\d{10,}")
# Every column the builders read; staging keeps only these.
_ORDERS_READ = (
    *_ORDERS_REQUIRED,
    "Currency",
    "Discount Code",
    "Billing Country",
    "Shipping Country",
    "Source",
    "Tags",
    "Financial Status",
    "Note Attributes",
    "Notes",
    "Referring Site",
    "Landing Site",
    "Refunded Amount",
    "Cancelled at",
    "Id",
    "Lineitem name",
    "Lineitem sku",
    "Lineitem quantity",
    "Lineitem price",
    "Vendor",
)
_CUSTOMERS_READ = (
    "Email",
    "Customer ID",
    "First Name",
    "Accepts Email Marketing",
    "Accepts Marketing",
    "Accepts SMS Marketing",
    "Default Address Country Code",
    "Country Code",
    "Country",
    "Default Address City",
    "City",
    "Tags",
    "Total Spent",
    "Total Orders",
)


def is_orders_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a Shopify orders export (not an abandoned-checkouts one)."""
    return {h.lower() for h in headers} >= _ORDERS_SIGNATURE


def is_checkouts_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a Shopify abandoned checkouts export."""
    names = {h.lower() for h in headers}
    return names >= _CHECKOUTS_SIGNATURE and "financial status" not in names


def tell_orders_from_checkouts(
    headers: list[str], rows: tuple[tuple[str, ...], ...], file_name: str | None
) -> tuple[str | None, str]:
    """Decide whether a file with the orders export's header holds orders or checkouts.

    In: the header, sample data ``rows`` (cells as text) and the file's name. Out: the format
    ('shopify-orders' or 'shopify-checkouts'), or None when the signals disagree, and one
    sentence giving the evidence (or, for None, asking the analyst to choose).
    """
    name_at, status_at, paid_at = (
        _find(headers, n) for n in ("Name", "Financial Status", "Paid at")
    )
    total_at = _find(headers, "Total")
    names = [r[name_at].strip() for r in rows if name_at is not None and len(r) > name_at]
    names = [n for n in names if n]
    order_rows = [
        r for r in rows if total_at is not None and len(r) > total_at and r[total_at].strip()
    ]
    paid = [
        r[i].strip()
        for r in order_rows
        for i in (status_at, paid_at)
        if i is not None and len(r) > i and r[i].strip()
    ]
    checkout_names = sum(1 for n in names if _CHECKOUT_NAME.fullmatch(n))
    for_checkouts, for_orders = [], []
    if names and checkout_names == len(names):
        for_checkouts.append(f"its names are checkout ids ('{names[0]}')")
    elif checkout_names:
        for_checkouts.append(f"{checkout_names} of {len(names)} names are checkout ids")
        for_orders.append("the others are order numbers")
    elif names:
        for_orders.append(f"its names are order numbers ('{names[0]}')")
    if order_rows and paid:
        for_orders.append("its Financial Status or Paid at cells are filled")
    elif order_rows:
        for_checkouts.append("its Financial Status and Paid at cells are empty")
    if file_name and "checkout" in file_name.lower():
        for_checkouts.append(f"its file name '{file_name}' says checkouts")
    if for_checkouts and for_orders:
        return None, (
            "This Shopify export could be orders or abandoned checkouts: "
            f"{', '.join(for_checkouts)}, but {', '.join(for_orders)}; choose the file kind "
            "(--format shopify-orders or --format shopify-checkouts on the command line, or "
            "the file kind on the Data page) and load it again."
        )
    if for_checkouts:
        return "shopify-checkouts", (
            f"A Shopify abandoned checkouts export: {', '.join(for_checkouts)}."
        )
    evidence = f": {', '.join(for_orders)}" if for_orders else ""
    return "shopify-orders", f"A Shopify orders export{evidence}."


def is_customers_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a Shopify customers export (any generation)."""
    return {h.lower() for h in headers} >= _CUSTOMERS_SIGNATURE


def check_headers(file_format: str, headers: list[str]) -> None:
    """Raise IngestError naming the first required column a Shopify export lacks."""
    kind, required = _REQUIRED.get(file_format, ("", ()))
    for name in required:
        if _find(headers, name) is None:
            raise IngestError(
                f"Missing required column: {name} (this is not a complete Shopify {kind} export)."
            )


def needed_columns(file_format: str, headers: list[str]) -> list[int]:
    """Return the positions of the columns a Shopify builder reads."""
    names = _CUSTOMERS_READ if file_format == "shopify-customers" else _ORDERS_READ
    found = (_find(headers, name) for name in names)
    return [index for index in found if index is not None]


def stage_orders(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> OrderSource:
    """Fold ``raw_rows`` (one per line item) into ``order_rows`` (one per order), ``line_rows``."""
    cell = _cells(headers)
    name, total = cell("Name"), cell("Total")
    notes = cell("Note Attributes")
    created = cell("Created at")
    date_order = values.detect_date_order(
        con, "raw_rows", created, _label(headers, "Created at"), options.date_order
    )
    refunded = cell("Refunded Amount")
    mark = values.detect_decimal(
        con,
        "raw_rows",
        {_label(headers, n): cell(n) for n in ("Total", "Refunded Amount") if cell(n) != MISSING},
        options.decimal,
    )
    expressions = {
        "order_id": values.text(name),
        "order_id_missing": f"{values.text(name)} IS NULL",
        "customer_id": f"lower({values.text(cell('Email'))})",
        "ordered_at_raw": values.text(created),
        "ordered_at": values.local_timestamp(created, date_order),
        "total_raw": values.text(total),
        "order_total": values.amount(total, mark.mark),
        "currency": f"upper({values.text(cell('Currency'))})",
        "discount_code": values.text(cell("Discount Code")),
        "country": f"coalesce({values.text(cell('Billing Country'))}, "
        f"{values.text(cell('Shipping Country'))})",
        "source_name": values.text(cell("Source")),
        "tags": values.text(cell("Tags")),
        "financial_status": values.text(cell("Financial Status")),
        **_tracking_expressions(notes, cell("Notes"), cell("Referring Site"), cell("Landing Site")),
    }
    if refunded != MISSING:
        expressions["refunded_raw"] = values.text(refunded)
        expressions["refunded_amount"] = (
            f"CASE WHEN {values.text(refunded)} IS NULL THEN 0 "
            f"ELSE {values.amount(refunded, mark.mark)} END"
        )
    voided = f"coalesce(lower({values.text(cell('Financial Status'))}) = 'voided', false)"
    expressions["is_cancelled"] = f"{values.text(cell('Cancelled at'))} IS NOT NULL OR {voided}"
    create_order_rows(con, expressions, _order_level(name, total))

    product = cell("Lineitem name")
    has_lines = product != MISSING
    if has_lines:
        _stage_lines(con, cell, name, total, product, mark.mark)
    labels = {
        "order_id": _label(headers, "Name"),
        "customer_id": _label(headers, "Email"),
        "ordered_at": _label(headers, "Created at"),
        "order_total": _label(headers, "Total"),
        "refunded_amount": _label(headers, "Refunded Amount"),
        "quantity": _label(headers, "Lineitem quantity"),
        "price": _label(headers, "Lineitem price"),
    }
    source_notes = [
        date_order.note(labels["ordered_at"]),
        mark.note,
        _note_repeated(con, name, total, "orders"),
    ]
    if _find(headers, "Id") is not None:
        source_notes.append(note_rounded_ids(con, "raw_rows", cell("Id"), _label(headers, "Id")))
    return OrderSource(
        file_format="shopify-orders",
        columns={k: v for k, v in labels.items() if v},
        notes=[n for n in source_notes if n],
        has_lines=has_lines,
    )


def stage_customers(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> CustomerSource:
    """Stage ``raw_rows`` of a customers export as ``customer_rows`` (one row per customer row)."""
    cell = _cells(headers)
    mark = values.detect_decimal(
        con,
        "raw_rows",
        {_label(headers, "Total Spent"): cell("Total Spent")}
        if cell("Total Spent") != MISSING
        else {},
        options.decimal,
    )
    email = f"lower({values.text(cell('Email'))})"
    customer_number = values.text(cell("Customer ID"))
    marketing = cell("Accepts Email Marketing", "Accepts Marketing")
    sms = cell("Accepts SMS Marketing")
    spent = cell("Total Spent")
    orders = cell("Total Orders")
    expressions = {
        "customer_id": f"coalesce({email}, {customer_number})",
        "keyed_by_id": f"{email} IS NULL AND {customer_number} IS NOT NULL",
        "email": email,
        "first_name": values.text(cell("First Name")),
        "accepts_marketing_raw": values.text(marketing),
        "accepts_marketing": values.flag(marketing),
        "accepts_sms_raw": values.text(sms),
        "accepts_sms": values.flag(sms),
        "country": values.text(cell("Default Address Country Code", "Country Code", "Country")),
        "city": values.text(cell("Default Address City", "City")),
        "tags": values.text(cell("Tags")),
        "total_spent_raw": values.text(spent),
        "total_spent": values.amount(spent, mark.mark),
        "total_orders_raw": values.text(orders),
        "total_orders": values.whole_number(orders),
    }
    create_customer_rows(con, expressions, "raw_rows")
    labels = {
        "customer_id": _label(headers, "Email"),
        "accepts_marketing": _label(headers, "Accepts Email Marketing", "Accepts Marketing"),
        "accepts_sms": _label(headers, "Accepts SMS Marketing"),
        "total_spent": _label(headers, "Total Spent"),
        "total_orders": _label(headers, "Total Orders"),
    }
    notes = [mark.note]
    if _find(headers, "Customer ID") is not None:
        notes.append(
            note_rounded_ids(con, "raw_rows", cell("Customer ID"), _label(headers, "Customer ID"))
        )
    keyed_by_id = con.execute(
        f"SELECT count(*) FROM raw_rows WHERE {email} IS NULL AND {customer_number} IS NOT NULL"
    ).fetchone()[0]
    if keyed_by_id:
        notes.append(
            f"{keyed_by_id:,} customers have no e-mail and are keyed by their Customer ID; "
            "orders are keyed by e-mail, so they will not match any order."
        )
    return CustomerSource(
        file_format="shopify-customers",
        columns={k: v for k, v in labels.items() if v},
        notes=[n for n in notes if n],
    )


def _stage_lines(
    con: duckdb.DuckDBPyConnection, cell: Cell, name: str, total: str, product: str, mark: str
) -> None:
    product_text = values.text(product)
    expressions = {
        "order_id": values.text(name),
        "line_number": f"row_number() OVER (PARTITION BY {values.text(name)} ORDER BY line_number)",
        "source_line": "line_number",
        "product": product_text,
        "sku": values.text(cell("Lineitem sku")),
        "quantity_raw": values.text(cell("Lineitem quantity")),
        "quantity": values.whole_number(cell("Lineitem quantity")),
        "price_raw": values.text(cell("Lineitem price")),
        "price": values.amount(cell("Lineitem price"), mark),
        "category": f"CASE WHEN strpos({product_text}, ' - ') > 0 "
        f"THEN split_part({product_text}, ' - ', 1) ELSE {values.text(cell('Vendor'))} END",
    }
    # A second row with a Total starts a second copy of the order (overlapping exports pasted
    # into one file): only the first copy's lines are kept.
    lines = f"""(
        SELECT * FROM (
            SELECT *, count({values.text(total)}) OVER (
                PARTITION BY {values.text(name)} ORDER BY line_number ROWS UNBOUNDED PRECEDING
            ) AS copy
            FROM raw_rows
        )
        WHERE {values.text(name)} IS NOT NULL AND {product_text} IS NOT NULL AND copy <= 1
    )"""
    create_line_rows(con, expressions, lines)


def stage_checkouts(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> TableSource:
    """Fold ``raw_rows`` (one per line item) into ``table_rows`` (one per checkout)."""
    cell = _cells(headers)
    name, total, created = cell("Name"), cell("Total"), cell("Created at")
    date_order = values.detect_date_order(
        con, "raw_rows", created, _label(headers, "Created at"), options.date_order
    )
    mark = values.detect_decimal(
        con,
        "raw_rows",
        {_label(headers, n): cell(n) for n in ("Total", "Lineitem price") if cell(n) != MISSING},
        options.decimal,
    )
    product = cell("Lineitem name")
    if product != MISSING:
        _stage_checkout_lines(con, cell, name, total, product, mark.mark)
    create_table_rows(
        con,
        {
            "checkout_id": "VARCHAR",
            "customer_id": "VARCHAR",
            "created_at_raw": "VARCHAR",
            "created_at": "TIMESTAMP",
            "total_raw": "VARCHAR",
            "total": "DECIMAL(18, 2)",
            "currency": "VARCHAR",
            "source_name": "VARCHAR",
        },
        {
            "checkout_id": values.text(name),
            "customer_id": f"lower({values.text(cell('Email'))})",
            "created_at_raw": values.text(created),
            "created_at": values.local_timestamp(created, date_order),
            "total_raw": values.text(total),
            "total": values.amount(total, mark.mark),
            "currency": f"upper({values.text(cell('Currency'))})",
            "source_name": values.text(cell("Source")),
        },
        _order_level(name, total),
    )
    labels = {
        "checkout_id": _label(headers, "Name"),
        "customer_id": _label(headers, "Email"),
        "created_at": _label(headers, "Created at"),
        "total": _label(headers, "Total"),
    }
    notes = [
        date_order.note(labels["created_at"]),
        mark.note,
        _note_repeated(con, name, total, "checkouts"),
    ]
    return TableSource(
        file_format="shopify-checkouts",
        table="abandoned_checkouts",
        key=("checkout_id",),
        stored=("checkout_id", "customer_id", "created_at", "total", "currency", "source_name"),
        columns={k: v for k, v in labels.items() if v},
        checks=(
            Check("checkout_id IS NULL", "checkout_id", "missing checkout id (Name)", "NULL"),
            *timestamp_checks("created_at", required=True),
            Check(
                "total_raw IS NOT NULL AND total IS NULL",
                "total",
                "amount is not a number",
                "total_raw",
            ),
            Check("total < 0", "total", "negative amount", "total_raw"),
        ),
        warnings=(
            Check(
                "customer_id IS NULL",
                "customer_id",
                "no e-mail: kept, but it cannot be matched to a customer",
                "NULL",
            ),
        ),
        notes=[n for n in notes if n],
        after_write=_write_checkout_lines if product != MISSING else None,
    )


def _stage_checkout_lines(
    con: duckdb.DuckDBPyConnection, cell: Cell, name: str, total: str, product: str, mark: str
) -> None:
    """Create TEMP TABLE ``checkout_line_staged(checkout_id, line_number, product, sku,
    quantity, price, unread)``: one row per line item of the first copy of each checkout,
    numbered 1..n in file order; ``unread``: a quantity or price that is not a number."""
    quantity, price = cell("Lineitem quantity"), cell("Lineitem price")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checkout_line_staged AS
        SELECT {values.text(name)} AS checkout_id,
               CAST(row_number() OVER (PARTITION BY {values.text(name)} ORDER BY line_number)
                    AS INTEGER) AS line_number,
               {values.text(product)} AS product,
               {values.text(cell("Lineitem sku"))} AS sku,
               {values.whole_number(quantity)} AS quantity,
               CAST({values.amount(price, mark)} AS DECIMAL(18, 2)) AS price,
               ({values.text(quantity)} IS NOT NULL AND {values.whole_number(quantity)} IS NULL)
               OR ({values.text(price)} IS NOT NULL AND {values.amount(price, mark)} IS NULL)
               AS unread
        FROM (
            SELECT *, count({values.text(total)}) OVER (
                PARTITION BY {values.text(name)} ORDER BY line_number ROWS UNBOUNDED PRECEDING
            ) AS copy
            FROM raw_rows
        )
        WHERE {values.text(name)} IS NOT NULL AND {values.text(product)} IS NOT NULL AND copy <= 1
        """
    )


def _write_checkout_lines(con: duckdb.DuckDBPyConnection, ingest_id: int) -> list[str]:
    """Insert the staged lines of the checkouts this load stores as new; return their notes."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE checkout_line_new AS
        SELECT l.* FROM checkout_line_staged l
        JOIN table_verdicts v ON v.checkout_id = l.checkout_id AND v.status = 'new'
        """
    )
    con.execute(
        """
        INSERT INTO checkout_lines
            (checkout_id, line_number, product, sku, quantity, price, ingest_id)
        SELECT checkout_id, line_number, product, sku, quantity, price, ?
        FROM checkout_line_new ORDER BY checkout_id, line_number
        """,
        [ingest_id],
    )
    stored, unread = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE unread) FROM checkout_line_new"
    ).fetchone()
    for table in ("checkout_line_new", "checkout_line_staged"):
        con.execute(f"DROP TABLE {table}")
    notes = [f"{stored:,} line items of the new checkouts were stored (checkout lines)."]
    if unread:
        notes.append(
            f"{unread:,} of them have a quantity or price that is not a number; they were "
            "stored without it."
        )
    return notes if stored else []


def _order_level(name: str, total: str) -> str:
    """The subquery of each Name's order-level row: its first row that has a Total.

    Rows without a Name are kept apart, one each, to be rejected.
    """
    return f"""(
        SELECT * FROM raw_rows
        QUALIFY {values.text(name)} IS NULL OR row_number() OVER (
            PARTITION BY {values.text(name)}
            ORDER BY {values.text(total)} IS NULL, line_number) = 1
    )"""


def _note_repeated(con: duckdb.DuckDBPyConnection, name: str, total: str, noun: str) -> str | None:
    """Say how many Names have more than one row with a Total (pasted-together exports)."""
    repeated = con.execute(
        f"""
        SELECT count(*) FROM (
            SELECT 1 FROM raw_rows WHERE {values.text(name)} IS NOT NULL
            GROUP BY {values.text(name)} HAVING count({values.text(total)}) > 1)
        """
    ).fetchone()[0]
    if not repeated:
        return None
    return (
        f"{repeated:,} {noun} appear more than once in this file (overlapping exports pasted "
        "together?); each was read once, from its first copy."
    )


def _cells(headers: list[str]) -> Cell:
    """Return ``cell(*names)``: the staging column of the first name present, else MISSING."""

    def cell(*names: str) -> str:
        unread = set(names) - {*_ORDERS_READ, *_CUSTOMERS_READ}
        if unread:
            raise ValueError(f"add {sorted(unread)} to the columns staging keeps")
        for name in names:
            index = _find(headers, name)
            if index is not None:
                return column(index)
        return MISSING

    return cell


def _find(headers: list[str], name: str) -> int | None:
    lowered = [h.lower() for h in headers]
    return lowered.index(name.lower()) if name.lower() in lowered else None


def _label(headers: list[str], *names: str) -> str | None:
    for name in names:
        index = _find(headers, name)
        if index is not None:
            return headers[index]
    return None


# Click-id parameters ad platforms append to their links (docs/acquisition.md §1); only the
# parameter's name is kept, never the id.
_CLICK_IDS = "gclid|gbraid|wbraid|msclkid|fbclid|ttclid|twclid|li_fat_id|sccid|epik|dclid"


def _tracking_expressions(notes: str, free_notes: str, referring: str, landing: str) -> dict:
    """SQL of utm_source, utm_medium, utm_campaign, channel, referrer, landing_site, click_id.

    Tracking apps and Shopify write them in several places; each field takes the first found:
    a ``key: value`` line of Note Attributes (``utm_source: google``, ``_utm_source``), a JSON
    value inside a note line (``_elevar_visitor_info: {"utm_source":"facebook",...}``), then
    the query string of the landing site (``/?utm_source=x&utm_medium=y``) and of any URL in
    the notes. The referrer is ``Referring Site`` or a referrer note; the landing site is
    ``Landing Site`` or a landing note. click_id is the first click-id parameter with a value.
    """
    landing_site = (
        f"coalesce({values.text(landing)}, "
        f"{_note_line(notes, 'landing_site', 'landing_page', 'landing_site_url')}, "
        f"{_json_value(notes, 'landing_site', 'landing_page')})"
    )
    texts = (landing_site, notes, free_notes)

    def tracked(key: str) -> str:
        found = [_note_line(notes, key), _json_value(notes, key)]
        found += [_query_value(text, key) for text in texts]
        return f"coalesce({', '.join(found)})"

    everywhere = f"concat_ws(chr(10), {', '.join(texts)})"
    click_patterns = (
        rf"(?i)[?&]({_CLICK_IDS})=[^&#\s]",
        rf'(?i)"({_CLICK_IDS})"\s*:\s*"[^"\s]',
        rf"(?i)(?:^|\n)[ \t]*_?({_CLICK_IDS})[ \t]*:[ \t]*[^\s]",
    )
    clicks = (f"NULLIF(regexp_extract({everywhere}, '{p}', 1), '')" for p in click_patterns)
    return {
        "utm_source": tracked("utm_source"),
        "utm_medium": tracked("utm_medium"),
        "utm_campaign": tracked("utm_campaign"),
        "channel": _note_line(notes, "channel"),
        "referrer": f"coalesce({values.text(referring)}, "
        f"{_note_line(notes, 'referrer', 'referring_site', 'referer')}, "
        f"{_json_value(notes, 'referrer', 'referring_site')})",
        "landing_site": landing_site,
        "click_id": f"lower(coalesce({', '.join(clicks)}))",
    }


def _note_line(notes: str, *keys: str) -> str:
    """The value of a ``key: value`` line of the Note Attributes cell (case-insensitive key,
    with or without a leading ``_``)."""
    pattern = rf"(?i)(?:^|\n)[ \t]*_?(?:{'|'.join(keys)})[ \t]*:[ \t]*([^\r\n]*)"
    return f"NULLIF(trim(regexp_extract({notes}, '{pattern}', 1)), '')"


def _json_value(text: str, *keys: str) -> str:
    """A JSON string value ``"key": "value"`` anywhere in ``text`` (a tracking app's note)."""
    pattern = rf'(?i)"(?:{"|".join(keys)})"\s*:\s*"([^"]*)"'
    return f"NULLIF(trim(regexp_extract({text}, '{pattern}', 1)), '')"


def _query_value(text: str, key: str) -> str:
    """The URL-decoded value of ``key`` in a query string in ``text`` (``?key=v`` or ``&key=v``)."""
    value = f"replace(regexp_extract({text}, '(?i)[?&]{key}=([^&#\\s]*)', 1), '+', ' ')"
    # A %-sequence that is not UTF-8 (a Latin-1 link) is kept as written rather than fail the load.
    return f"NULLIF(trim(coalesce(try(url_decode({value})), {value})), '')"
