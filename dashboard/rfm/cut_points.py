"""RFM measures and scores (docs/segments.md §1-2), as Ibis expressions that run on any backend.

Measures (per customer, as of an analysis date, inside a look-back window; which orders are
valid and which count is decided in dashboard/order_rules.py):
- ``recency_days``: analysis date minus the date of the last valid order, in calendar days;
- ``frequency``: number of valid orders in the window;
- ``monetary``: net revenue in the window (order totals minus refunds and returns) over the orders
  that count (cancelled orders never count; return rows carry a negative net total).

Scores use one threshold rule in every mode, with ``n - 1`` ascending cut points for ``n`` scores:
R = 1 + #(cuts c with recency <= c); F and M = 1 + #(cuts c with value >= c).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from dashboard import order_rules
from dashboard.errors import UserError
from dashboard.rfm.schemes import Scheme

SCORE_SCALES = (3, 4, 5)
SCORING_MODES = ("quantile", "custom")
STATUS_SCORED = "scored"
STATUS_PROSPECT = "prospect"
STATUS_OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class Cuts:
    """Cut points per measure, ascending; ``None`` marks a score no customer can reach."""

    recency: tuple[float | None, ...]
    frequency: tuple[float | None, ...]
    monetary: tuple[float | None, ...]

    @property
    def n_scores(self) -> int:
        """Number of scores (3, 4 or 5)."""
        return len(self.recency) + 1

    def as_rows(self) -> list[dict[str, object]]:
        """Return one row per measure and score, stating the rule that gives the score."""
        rows: list[dict[str, object]] = []
        n = self.n_scores
        for measure, cuts, op, whole in (
            ("Recency (days)", self.recency, "<=", True),
            ("Frequency (orders)", self.frequency, ">=", True),
            ("Monetary (net revenue)", self.monetary, ">=", False),
        ):
            for score in range(n, 0, -1):
                rule = _rule_text(cuts, score, op, n, whole)
                rows.append({"measure": measure, "score": score, "rule": rule})
        return rows


def _band_text(lower: float, upper: float, whole: bool, op: str) -> str | None:
    # A band between two cuts may hold no value (ties) or, for a whole-number measure, one.
    if lower >= upper:
        return f"empty (the cut points {_fmt(lower)} and {_fmt(upper)} coincide)"
    if whole and float(lower).is_integer() and upper - lower == 1:
        return f"exactly {_fmt(upper if op == '<=' else lower)}"
    return None


def _rule_text(cuts: Sequence[float | None], score: int, op: str, n: int, whole: bool) -> str:
    if op == "<=":
        # R = n if value <= cuts[0]; R = k if value <= cuts[n-k] and above cuts[n-k-1].
        idx = n - score
        upper = cuts[idx] if idx < len(cuts) else None
        lower = cuts[idx - 1] if idx >= 1 else None
        if score == 1:
            return f"> {_fmt(lower)}"
        if lower is None:
            return f"<= {_fmt(upper)}"
        band = None if upper is None else _band_text(lower, upper, whole, op)
        return band or f"> {_fmt(lower)} and <= {_fmt(upper)}"
    idx = score - 2
    lower = cuts[idx] if idx >= 0 else None
    upper = cuts[idx + 1] if idx + 1 < len(cuts) else None
    if score == 1:
        return f"< {_fmt(cuts[0])}"
    if lower is None:
        return "unreachable (ties)"
    if upper is None or score == n:
        return f">= {_fmt(lower)}"
    return _band_text(lower, upper, whole, op) or f">= {_fmt(lower)} and < {_fmt(upper)}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


class CutsError(UserError):
    """Cut points that cannot be used, with the reason as one sentence."""


def validate_cuts(cuts: Cuts) -> Cuts:
    """Return ``cuts`` if every measure has n-1 finite, non-negative, strictly rising values."""
    n = cuts.n_scores
    if n not in SCORE_SCALES:
        raise CutsError(f"Use 3, 4 or 5 scores, not {n}.")
    for name, values in (
        ("recency", cuts.recency),
        ("frequency", cuts.frequency),
        ("monetary", cuts.monetary),
    ):
        if len(values) != n - 1:
            raise CutsError(f"{name} needs {n - 1} cut points for {n} scores.")
        for v in values:
            if v is None or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                raise CutsError(f"{name} cut points must be finite numbers >= 0, got {v!r}.")
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise CutsError(f"{name} cut points must rise strictly: {list(values)}.")
    return cuts


@dataclass(frozen=True)
class ScoringSpec:
    """How customers are scored, the same on every page, command and date compared.

    ``scheme`` names the segments; ``custom`` holds the analyst's cut points (None: quantiles of
    the customers scored); ``rules`` say which orders count; ``window_days`` is the look-back
    length (None: all history); ``excluded`` are periods whose orders are left out.
    """

    scheme: Scheme
    custom: Cuts | None = None
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES
    window_days: int | None = None
    excluded: tuple[tuple[dt.date, dt.date], ...] = ()

    @property
    def mode(self) -> str:
        """The scoring mode, one of SCORING_MODES."""
        return "quantile" if self.custom is None else "custom"

    def window_start(self, as_of: dt.date) -> dt.date | None:
        """Return the first day of the look-back window ending on ``as_of`` (None = all history)."""
        if self.window_days is None:
            return None
        return as_of - dt.timedelta(days=self.window_days - 1)


def resolve_cuts(measures: ir.Table, spec: ScoringSpec) -> Cuts:
    """Return the cut points to score with: the spec's own, or quantiles of ``measures``.

    In: a table with status, recency_days, frequency and monetary (``build_customer_measures``
    or the feature table's equivalent). Custom cut points must fit the scheme's scale; a scheme
    with fixed recency cuts (Klaviyo: 180 and 365 days) keeps them in quantile mode.
    """
    n_scores = spec.scheme.n_scores
    if spec.custom is not None:
        if spec.custom.n_scores != n_scores:
            raise CutsError(
                f"The scheme uses {n_scores} scores; give {n_scores - 1} cut points per measure."
            )
        return validate_cuts(spec.custom)
    cuts = quantile_cuts(measures, n_scores)
    if spec.scheme.fixed_recency_cuts is not None:
        cuts = replace(cuts, recency=spec.scheme.fixed_recency_cuts)
    return cuts


def build_customer_measures(
    orders: ir.Table,
    window: order_rules.Window,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    customers: ir.Table | None = None,
) -> ir.Table:
    """Per-customer RFM measures.

    In: ``orders`` (canonical orders table), optional ``customers`` (customer_id, ...).
    Out: one row per known customer: customer_id, status (scored | prospect | outside_window),
    first_order_on, last_order_on (dates of valid orders in the window), recency_days (int, null
    unless scored), frequency (int64), monetary (decimal, net in window), orders_ever (int64 valid
    orders up to the analysis date). Customers from ``customers`` without orders are prospects.
    """
    flags = order_rules.flag_orders(orders, window, rules)
    valid_in_window = flags.is_valid & flags.in_window
    per_customer = flags.group_by("customer_id").aggregate(
        first_order_on=flags.day.min(where=valid_in_window),
        last_order_on=flags.day.max(where=valid_in_window),
        frequency=valid_in_window.sum(),
        monetary=flags.net_total.sum(where=flags.is_counted & flags.in_window),
        orders_ever=flags.is_valid.sum(),
    )
    if customers is not None:
        extra = (
            customers.select("customer_id")
            .distinct()
            .anti_join(per_customer, "customer_id")
            .mutate(
                first_order_on=ibis.null("date"),
                last_order_on=ibis.null("date"),
                frequency=ibis.literal(0, "int64"),
                monetary=ibis.null(per_customer.monetary.type()),
                orders_ever=ibis.literal(0, "int64"),
            )
        )
        per_customer = per_customer.union(extra)
    zero = ibis.literal(0, "decimal(38, 2)")
    status = ibis.cases(
        (per_customer.frequency.fill_null(0) > 0, STATUS_SCORED),
        (per_customer.orders_ever.fill_null(0) == 0, STATUS_PROSPECT),
        else_=STATUS_OUTSIDE_WINDOW,
    )
    return per_customer.select(
        "customer_id",
        status=status,
        first_order_on=per_customer.first_order_on,
        last_order_on=per_customer.last_order_on,
        recency_days=ibis.literal(window.as_of).delta(per_customer.last_order_on, unit="day"),
        frequency=per_customer.frequency.fill_null(0).cast("int64"),
        monetary=per_customer.monetary.cast("decimal(38, 2)").fill_null(zero),
        orders_ever=per_customer.orders_ever.fill_null(0).cast("int64"),
    )


def quantile_cuts(measures: ir.Table, n_scores: int = 5) -> Cuts:
    """Cut points from the scored customers' distribution at 1/n .. (n-1)/n.

    In: the table of ``build_customer_measures``. Out: Cuts usable by the threshold rule, so the
    shown cut values are exactly what decides each score. For recency the cut is the largest
    observed value at or below the quantile; for F and M the smallest observed value above it
    (the bottom share scores 1). Equal cuts mean ties collapsed a score.

    The quantile is the interpolating one (DuckDB ``quantile_cont``, Spark ``percentile``) at
    position (N - 1) * k / n of the N sorted values. Both snapped cuts depend only on the value
    at rank floor((N - 1) * k / n) and the next larger value, so they are found from that rank,
    computed in integer arithmetic, and no engine quantile function is used: engines round the
    interpolation differently, which on tied values moved a cut by one observed value.
    """
    if n_scores not in SCORE_SCALES:
        raise CutsError(f"Use 3, 4 or 5 scores, not {n_scores}.")
    scored = measures.filter(measures.status == STATUS_SCORED)
    count = int(scored.count().execute() or 0)
    if not count:
        raise CutsError("No customer has a valid order in this window, so nothing can be scored.")
    ranks = [(count - 1) * k // n_scores for k in range(1, n_scores)]
    recency, _ = _values_at_ranks(scored.recency_days.cast("float64"), ranks)
    _, frequency = _values_at_ranks(scored.frequency.cast("float64"), ranks)
    _, monetary = _values_at_ranks(scored.monetary.cast("float64"), ranks)
    return Cuts(recency=tuple(recency), frequency=tuple(frequency), monetary=tuple(monetary))


def interpolated_quantile(column: ir.NumericColumn, q: float) -> float | None:
    """Return the interpolating quantile ``q`` (0..1) of the column's non-null values.

    In: one numeric column of a table. Out: the float64 value DuckDB's ``quantile_cont`` gives:
    at position p = (N - 1) * q of the N sorted values, lo * (1 - d) + hi * d with lo, hi the
    values at ranks floor(p), ceil(p) and d = p - floor(p); None without values. The two values
    come from ``_values_at_ranks`` and the arithmetic is done here, so every engine gives the
    same float (Spark's ``percentile`` rounds the interpolation differently).
    """
    values = column.cast("float64").name("value").as_table()
    values = values.filter(values.value.notnull())
    count = int(values.count().execute() or 0)
    if not count:
        return None
    position = (count - 1) * q
    low, high = math.floor(position), math.ceil(position)
    (lo, hi), _ = _values_at_ranks(values.value, [low, high])
    if low == high:
        return float(lo)
    fraction = position - low
    return lo * (1.0 - fraction) + hi * fraction


def _values_at_ranks(
    column: ir.FloatingColumn, ranks: Sequence[int]
) -> tuple[list[float], list[float | None]]:
    """Return, per 0-based rank in the ascending values of ``column``, the value at that rank and
    the next larger value (None when there is none).

    One query over the distinct values with their counts, a running total and the next value;
    only the rows that hold one of the ranks come back.
    """
    values = column.name("value").as_table()
    distinct = values.group_by("value").aggregate(n=values.count())
    distinct = distinct.mutate(
        upto=distinct.n.sum().over(ibis.cumulative_window(order_by=distinct.value)),
        next_value=distinct.value.lead().over(ibis.window(order_by=distinct.value)),
    )
    holds = ibis.or_(*[(distinct.upto - distinct.n <= r) & (distinct.upto > r) for r in ranks])
    rows = distinct.filter(holds).select("value", "next_value", "n", "upto").to_pyarrow()
    found = rows.to_pylist()

    def row_of(rank: int) -> dict[str, object]:
        return next(row for row in found if row["upto"] - row["n"] <= rank < row["upto"])

    at = [row_of(rank) for rank in ranks]
    return [row["value"] for row in at], [row["next_value"] for row in at]


def collapsed_scores(cuts: Cuts) -> dict[str, list[int]]:
    """Return, per measure, the scores that no customer can get because ties merged cut points."""
    n = cuts.n_scores
    out: dict[str, list[int]] = {}
    for name, values in (
        ("recency", cuts.recency),
        ("frequency", cuts.frequency),
        ("monetary", cuts.monetary),
    ):
        lost: list[int] = []
        for i, v in enumerate(values):
            prev = values[i - 1] if i else None
            # Recency scores count down from n; F and M count up from 1.
            if v is None:
                # No value reaches this cut: the score it would give is lost.
                lost.append(n - i - 1 if name == "recency" else i + 2)
            elif prev is not None and v == prev:
                # Equal cuts leave no value between them: the score of that empty band is lost
                # (F/M: values in [prev, v) would score i + 1; recency: (prev, v] scores n - i).
                lost.append(n - i if name == "recency" else i + 1)
        if lost:
            out[name] = sorted(lost)
    return out


def score_customers(measures: ir.Table, cuts: Cuts) -> ir.Table:
    """Add r_score, f_score and m_score (int8) to the scored customers.

    In: the table of ``build_customer_measures``. Out: the scored rows only, same columns plus the
    three scores, computed by the threshold rule with the cut points as bound literals.
    """
    scored = measures.filter(measures.status == STATUS_SCORED)

    def count_true(conditions: list[ir.BooleanValue]) -> ir.IntegerValue:
        total = ibis.literal(1, "int8")
        for condition in conditions:
            total = total + condition.cast("int8")
        return total.cast("int8")

    recency = scored.recency_days
    frequency = scored.frequency
    monetary = scored.monetary.cast("float64")
    return scored.mutate(
        r_score=count_true([recency <= ibis.literal(c) for c in cuts.recency if c is not None]),
        f_score=count_true([frequency >= ibis.literal(c) for c in cuts.frequency if c is not None]),
        m_score=count_true([monetary >= ibis.literal(c) for c in cuts.monetary if c is not None]),
    )


def share_one_time_buyers(measures: ir.Table) -> float:
    """Return the fraction of scored customers with exactly one valid order (0 when none)."""
    scored = measures.filter(measures.status == STATUS_SCORED)
    counts = scored.aggregate(
        customers=scored.count(), one_time=(scored.frequency == 1).sum()
    ).to_pyarrow()
    customers = counts.column("customers")[0].as_py()
    return (counts.column("one_time")[0].as_py() or 0) / customers if customers else 0.0
