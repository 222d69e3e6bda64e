"""The dataset's currency, set by the analyst when the files did not give one (docs/ingest.md).

A file without a currency column leaves ``orders.currency`` (and the abandoned checkouts')
empty, and money would show without a symbol. ``set_currency`` fills the empty ones with the
ISO 4217 code the analyst gives; a currency a file stated is never changed.
"""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.ingest.report import IngestError
from dashboard.workspace import store

ISO_CODE = re.compile(r"[A-Z]{3}")
# Tables with a currency column, and the statement that fills its empty cells.
_FILL = {
    "orders": "UPDATE orders SET currency = ? WHERE currency IS NULL",
    "abandoned_checkouts": "UPDATE abandoned_checkouts SET currency = ? WHERE currency IS NULL",
}


def check_currency(code: str) -> str:
    """Return ``code`` upper-cased if it is a three-letter ISO 4217 code, else raise IngestError."""
    cleaned = (code or "").strip().upper()
    if not ISO_CODE.fullmatch(cleaned):
        raise IngestError(
            f"'{code}' is not a currency code: give the three letters of ISO 4217, e.g. USD, "
            "EUR, GBP."
        )
    return cleaned


def set_currency(workspace: Path, dataset: str, code: str) -> int:
    """Give ``code`` to every order (and abandoned checkout) of ``dataset`` without a currency,
    in one transaction; return how many orders got it. Orders with a currency keep theirs."""
    currency = check_currency(code)
    if not store.dataset_exists(workspace, dataset):
        raise IngestError(f"There is no dataset called '{dataset}'.")
    with store.open_for_write(workspace, dataset) as con:
        con.begin()
        try:
            changed = 0
            for table, statement in _FILL.items():
                rows = con.execute(statement, [currency]).fetchone()
                if table == "orders":
                    changed = int(rows[0]) if rows else 0
            con.commit()
        except Exception:
            con.rollback()
            raise
        con.execute("CHECKPOINT")
    return changed
