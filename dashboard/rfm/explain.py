"""Explain a customer: the measures, cut points and scores, and the rule that chose the segment.

The scores and the segment come from the engine (``segments.assign_segments``), so the text can
never disagree with the table; the sentences restate the threshold rule with this customer's
numbers, e.g. ``R=4 because 37 days <= 45 (r2) and > 20 (r1)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd

from dashboard.rfm import cut_points, scheme_io, segments
from dashboard.rfm.analysis import CustomerBase
from dashboard.rfm.schemes import PROSPECTS, Scheme, round_half_up_mean
from dashboard.workspace import store


def format_number(value: float) -> str:
    """Return ``value`` with thousands separators and at most two decimals (``1,234.5``)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float, unit: str) -> str:
    if not unit:
        return format_number(value)
    return f"{format_number(value)} {unit if value != 1 else unit.rstrip('s')}"


def explain_score(
    letter: str, score: int, value: float, cuts: tuple[float | None, ...], unit: str
) -> str:
    """Return why a measure got its score, naming the cut points that decided it.

    Recency (``letter`` R) scores 1 + the number of cuts the value is at or below; F and M score
    1 + the number of cuts the value reaches. Cut ``k`` (1-based, ascending) is named e.g. ``r2``.
    """
    named = [(f"{letter.lower()}{i}", c) for i, c in enumerate(cuts, start=1) if c is not None]
    if letter == "R":
        met = [(n, c) for n, c in named if value <= c]
        missed = [(n, c) for n, c in named if value > c]
        # Cuts rise, so the decisive ones are the lowest met and the highest missed.
        clauses = [("<=", *met[0])] if met else []
        clauses += [(">", *missed[-1])] if missed else []
    else:
        met = [(n, c) for n, c in named if value >= c]
        missed = [(n, c) for n, c in named if value < c]
        clauses = [(">=", *met[-1])] if met else []
        clauses += [("<", *missed[0])] if missed else []
    if not clauses:
        return f"{letter}={score} (no cut points)"
    text = [f"{op} {format_number(cut)} ({name})" for op, name, cut in clauses]
    return f"{letter}={score} because {_with_unit(value, unit)} " + " and ".join(text)


def explain_cell(scheme: Scheme, r: int, f: int, m: int) -> list[str]:
    """Return how the scheme turns the scores into the segment (the FM step, then the lookup)."""
    segment = scheme.segment_of(r, f, m)
    grid = scheme_io.detect_grid(scheme)
    if grid == "r_fm":
        fm = round_half_up_mean(f, m)
        mean = (f + m) / 2
        step = (
            f"FM = ({f}+{m})/2 = {mean:g} -> {fm} (half up)"
            if mean != fm
            else f"FM = ({f}+{m})/2 = {fm}"
        )
        return [step, f"R{r} x FM{fm} -> {segment}"]
    if grid == "r_f":
        return [f"R{r} x F{f} -> {segment} (M is not used)"]
    return [f"code {r}{f}{m} -> {segment}"]


def find_customer_ids(base: CustomerBase, key: str, workspace: Path | None = None) -> list[str]:
    """Return the ids of the base's customers whose id or email equals ``key``, ignoring case.

    In: the base's measures and, when ``workspace`` is given, the dataset's customers table
    (customer_id, email). Out: matching customer ids present in the base, sorted.
    """
    needle = ibis.literal(key.strip().lower())
    measures = base.measures
    ids = set(measures.filter(measures.customer_id.lower() == needle).customer_id.to_pandas())
    if workspace is not None:
        with store.open_for_read(workspace, base.dataset) as source:
            if "customers" in store.table_names(source):
                customers = source.table("customers")
                found = customers.filter(customers.email.lower() == needle).customer_id
                by_email = sorted(set(found.to_pandas()))
                if by_email:
                    known = measures.filter(measures.customer_id.isin(by_email)).customer_id
                    ids |= set(known.to_pandas())
    return sorted(ids)


def _to_date(value: object) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _lookup_email(workspace: Path | None, dataset: str, customer_id: str) -> str | None:
    if workspace is None:
        return None
    with store.open_for_read(workspace, dataset) as source:
        if "customers" not in store.table_names(source):
            return None
        customers = source.table("customers")
        emails = customers.filter(customers.customer_id == ibis.literal(customer_id)).email
        found = emails.to_pandas().dropna()
    return str(found.iloc[0]) if len(found) else None


def describe_prediction(predictions: pd.DataFrame, customer_id: str) -> dict[str, object]:
    """Return one customer's predicted fields as plain values.

    In: ``pipeline.score_customers``' rows. Out: ``segments.PREDICTION_FIELDS`` as Python
    numbers, dates, text or None (money as float); a customer the predictions do not know gets
    only a prediction_note saying so.
    """
    rows = predictions[predictions.customer_id == customer_id]
    if rows.empty:
        return {"prediction_note": "This customer is not in the predictions: no prediction."}
    row = rows.iloc[0]
    described: dict[str, object] = {}
    for name in segments.PREDICTION_FIELDS:
        value = row[name]
        if pd.isna(value):
            described[name] = None
        elif name == "expected_next_order_on":
            described[name] = _to_date(value)
        elif name in {"churn_band", "prediction_note"}:
            described[name] = str(value)
        elif name in {"repeat_purchases", "t_x_days", "T_days"}:
            described[name] = int(value)
        else:
            described[name] = float(value)
    return described


def explain_customer(
    base: CustomerBase,
    cuts: cut_points.Cuts,
    scheme: Scheme,
    key: str,
    workspace: Path | None = None,
    predictions: pd.DataFrame | None = None,
) -> dict[str, object] | None:
    """Explain one customer's segment, or return None when no customer matches ``key``.

    ``key`` is a customer id or (with ``workspace``) an email, matched exactly, ignoring case;
    with several matches the first id is explained and all are listed. Out: a dict with
    customer_id, email, matches, status, segment, measures (recency_days, frequency, monetary,
    first_order_on, last_order_on), cuts (recency, frequency, monetary), scores (r, f, m or None),
    reasons (sentences, in the order the rule applies them) and predictions
    (``describe_prediction`` of ``pipeline.score_customers``' rows when given, else None).
    """
    matches = find_customer_ids(base, key, workspace)
    if not matches:
        return None
    customer_id = matches[0]
    measures = base.measures
    row = measures.filter(measures.customer_id == ibis.literal(customer_id)).to_pandas().iloc[0]
    explained: dict[str, object] = {
        "customer_id": customer_id,
        "email": _lookup_email(workspace, base.dataset, customer_id),
        "matches": matches,
        "status": row.status,
        "segment": None,
        "measures": {
            "recency_days": None
            if row.status != cut_points.STATUS_SCORED
            else int(row.recency_days),
            "frequency": int(row.frequency),
            "monetary": float(row.monetary),
            "first_order_on": _to_date(row.first_order_on),
            "last_order_on": _to_date(row.last_order_on),
        },
        "cuts": {
            "recency": list(cuts.recency),
            "frequency": list(cuts.frequency),
            "monetary": list(cuts.monetary),
        },
        "scores": None,
        "predictions": None
        if predictions is None
        else describe_prediction(predictions, customer_id),
    }
    if row.status == cut_points.STATUS_PROSPECT:
        explained["segment"] = PROSPECTS
        explained["reasons"] = [
            f"No valid order up to {base.window.as_of:%Y-%m-%d} -> {PROSPECTS} (not scored)"
        ]
        return explained
    if row.status == cut_points.STATUS_OUTSIDE_WINDOW:
        explained["reasons"] = [
            "Valid orders only before the look-back window: not scored and in no segment"
        ]
        return explained
    labelled = segments.assign_segments(measures, cuts, scheme)
    scored = labelled.filter(labelled.customer_id == ibis.literal(customer_id)).to_pandas().iloc[0]
    r, f, m = int(scored.r_score), int(scored.f_score), int(scored.m_score)
    explained["segment"] = scored.segment
    explained["scores"] = {"r": r, "f": f, "m": m}
    explained["reasons"] = [
        explain_score("R", r, int(row.recency_days), cuts.recency, "days"),
        explain_score("F", f, int(row.frequency), cuts.frequency, "orders"),
        explain_score("M", m, float(row.monetary), cuts.monetary, ""),
        *explain_cell(scheme, r, f, m),
    ]
    return explained
