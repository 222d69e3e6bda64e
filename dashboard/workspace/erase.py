"""Erase one customer from a dataset (GDPR art. 17): every row that names them, in every table.

The customer is found by id (exact) or e-mail (case-insensitive) in every table of
``store.SCHEMA`` with a ``customer_id`` or ``email`` column; a ``customer_aliases`` row names the
customer it maps to. Their rows go from every such table, and so do the rows of the tables that
hang off those rows by key (``order_lines`` of their ``orders``, ``checkout_lines`` of their
``abandoned_checkouts``: any table without a customer column that shares an ``*_id`` column with
one that has it) and the ``ingest_issues`` whose raw value is one of their ids or e-mails.

Deleting in place would leave the rows' old bytes in the file's free blocks until DuckDB reuses
them (a CHECKPOINT does not clear them). So the dataset is rebuilt: every table is copied
without the customer's rows into a new file in a scratch folder, which is checkpointed and
replaces the dataset by one atomic rename, under the dataset's write lock. A failure before the
rename leaves the dataset exactly as it was. The copy goes through DuckDB's relational API with
the table and column names of ``store.SCHEMA``; the customer's values are bound constants.

The app's cached results of a dataset are keyed by its file's modification time, which the
rename changes, so none of them outlives the erasure; saved segments and playbooks hold
definitions, never members. An audit event ``erase`` records the rows removed per table and the
sha256 of the key, never the key itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard.workspace import audit, store

CUSTOMER_COLUMN = "customer_id"
EMAIL_COLUMN = "email"
ALIAS_TABLE = "customer_aliases"
ISSUES_TABLE = "ingest_issues"
ERASED_FILE = "erased.duckdb"


class UnknownCustomerError(store.WorkspaceError):
    """No table of the dataset holds the customer asked for."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed: the customer's ids and the rows deleted per table (tables with
    no row of theirs are left out), and the sha256 of the key the audit log names them by."""

    dataset: str
    key_sha256: str
    customer_ids: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """The number of rows deleted from all tables."""
        return sum(self.rows.values())


def hash_key(key: str) -> str:
    """Return the sha256 (hex) of a customer key as the audit log names it: trimmed, and an
    e-mail lowercased, so one person always has one hash."""
    normal = key.strip().lower() if "@" in key else key.strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def erase_customer(
    workspace: Path, dataset: str, key: str, user: str | None = None
) -> ErasureReport:
    """Delete the customer ``key`` (a customer_id or an e-mail) from every table of ``dataset``.

    In: an existing dataset. Out: the report of rows deleted per table. Raises
    UnknownCustomerError when no table holds that id or e-mail (nothing changes). The dataset
    file is replaced by a rebuilt one without the customer's rows (see the module docstring),
    and the erasure is recorded in the audit log as ``user`` (None: the OS user).
    """
    key = key.strip()
    if not store.dataset_exists(workspace, dataset):
        raise store.WorkspaceError(
            f"There is no dataset called '{dataset}'; load a file into it first."
        )
    with store.write_lock(workspace, dataset), store.create_scratch(workspace) as scratch:
        built = scratch / ERASED_FILE
        with store.open_for_write(workspace, dataset) as old:
            ids, emails = _find_customer(old, key)
            if not ids and not emails:
                raise UnknownCustomerError(
                    f"No customer with the id or e-mail '{key}' is in the dataset '{dataset}'; "
                    "check the spelling (ids are matched exactly)."
                )
            rows = _copy_without(old, built, ids, emails | ({key.lower()} if "@" in key else set()))
        store.replace_dataset(workspace, built, dataset)
    report = ErasureReport(dataset, hash_key(key), tuple(sorted(ids)), rows)
    audit.record_event(
        workspace,
        "erase",
        dataset,
        user,
        customer_sha256=report.key_sha256,
        customer_ids=len(report.customer_ids),
        rows=report.rows,
    )
    return report


def _columns(table: str) -> list[str]:
    return [name for name, _ in store._declared_columns(store.SCHEMA[table])]


def _column(name: str) -> duckdb.Expression:
    return duckdb.ColumnExpression(name)


def _lower(name: str) -> duckdb.Expression:
    return duckdb.FunctionExpression("lower", _column(name))


def _constants(values: set[str]) -> list[duckdb.Expression]:
    return [duckdb.ConstantExpression(v) for v in sorted(values)]


def _find_customer(old: duckdb.DuckDBPyConnection, key: str) -> tuple[set[str], set[str]]:
    """Return the customer ids and lowercased e-mails that ``key`` names in the open dataset.

    An e-mail names every customer row with it; an id is kept if any customer table holds it;
    an alias names the customer it maps to.
    """
    ids: set[str] = set()
    emails: set[str] = set()
    for table in store.SCHEMA:
        columns = _columns(table)
        relation = old.table(table)
        if EMAIL_COLUMN in columns:
            match = _lower(EMAIL_COLUMN) == duckdb.ConstantExpression(key.lower())
            found = relation.filter(match).select(_column(CUSTOMER_COLUMN), _lower(EMAIL_COLUMN))
            for customer_id, email in found.fetchall():
                ids.add(customer_id)
                emails.add(email)
        if CUSTOMER_COLUMN in columns:
            held = relation.filter(_column(CUSTOMER_COLUMN) == duckdb.ConstantExpression(key))
            if held.limit(1).fetchall():
                ids.add(key)
    aliases = old.table(ALIAS_TABLE).filter(_column("alias") == duckdb.ConstantExpression(key))
    ids |= {customer_id for (customer_id,) in aliases.select(_column(CUSTOMER_COLUMN)).fetchall()}
    if ids:
        customers = old.table("customers").filter(_column(CUSTOMER_COLUMN).isin(*_constants(ids)))
        emails |= {
            email
            for (email,) in customers.select(_lower(EMAIL_COLUMN)).fetchall()
            if email is not None
        }
    return ids, emails


def _erased_rows(table: str, ids: set[str], emails: set[str]) -> duckdb.Expression | None:
    """Return the condition true on the rows of ``table`` that belong to the customer (their
    id or e-mail), None when the table has neither column."""
    columns = _columns(table)
    conditions = []
    if CUSTOMER_COLUMN in columns and ids:
        conditions.append(_column(CUSTOMER_COLUMN).isin(*_constants(ids)))
    if EMAIL_COLUMN in columns and emails:
        conditions.append(_lower(EMAIL_COLUMN).isin(*_constants(emails)))
    if table == ISSUES_TABLE:
        conditions.append(_lower("raw_value").isin(*_constants({i.lower() for i in ids} | emails)))
    if not conditions:
        return None
    condition = conditions[0]
    for other in conditions[1:]:
        condition = condition | other
    # A NULL id or e-mail is nobody's: such a row is kept.
    return duckdb.CoalesceOperator(condition, duckdb.ConstantExpression(False))


def _child_keys(
    old: duckdb.DuckDBPyConnection, ids: set[str], emails: set[str]
) -> dict[str, set[str]]:
    """Return, per key column (``order_id``, ``checkout_id``), the values on the customer's rows
    of the tables with a customer column, so the tables without one can follow them."""
    keys: dict[str, set[str]] = {}
    for table in store.SCHEMA:
        columns = _columns(table)
        condition = _erased_rows(table, ids, emails)
        if condition is None or table == ISSUES_TABLE:
            continue
        for name in columns:
            if name.endswith("_id") and name not in (CUSTOMER_COLUMN, "ingest_id"):
                found = old.table(table).filter(condition).select(_column(name)).fetchall()
                keys.setdefault(name, set()).update(v for (v,) in found if v is not None)
    return keys


def _copy_without(
    old: duckdb.DuckDBPyConnection, built: Path, ids: set[str], emails: set[str]
) -> dict[str, int]:
    """Copy every table of ``old`` into a new database file ``built`` without the customer's
    rows, checkpoint and close it; return the rows left out per table (only tables with some)."""
    child_keys = _child_keys(old, ids, emails)
    removed: dict[str, int] = {}
    fresh = duckdb.connect(str(built))
    try:
        store.ensure_schema(fresh)
        fresh.execute("BEGIN TRANSACTION")
        for table in store.SCHEMA:
            columns = _columns(table)
            condition = _erased_rows(table, ids, emails)
            if condition is None:
                followed = [c for c in columns if c in child_keys and child_keys[c]]
                if followed:
                    condition = _column(followed[0]).isin(*_constants(child_keys[followed[0]]))
            relation = old.table(table)
            before = _count(relation)
            if condition is not None:
                relation = relation.filter(~condition)
            projected = relation.select(*(_column(c) for c in columns))
            fresh.from_arrow(projected.fetch_record_batch()).insert_into(table)
            kept = _count(fresh.table(table))
            if before != kept:
                removed[table] = before - kept
        fresh.execute("COMMIT")
        fresh.execute("CHECKPOINT")
    finally:
        fresh.close()
    return removed


def _count(relation: duckdb.DuckDBPyRelation) -> int:
    return int(relation.aggregate([duckdb.FunctionExpression("count_star")]).fetchone()[0])
