"""A segment's members as files for people, email tools, Shopify and machines, each stamped.

Formats:
- ``csv``: one row per member with the chosen feature columns (customer_id first);
- ``klaviyo``: a Klaviyo list import: ``Email`` first, then the chosen columns as profile
  properties (first name, city and country under Klaviyo's own property names, the predicted
  fields under readable names such as "Predicted CLV", the others under their labels) and
  ``Segment``;
- ``shopify-tags``: a Shopify customer import that tags the members: ``Email,Tags``, where Tags
  keeps the tags known from the customers file and adds the segment's tag (an import that
  overwrites existing customers replaces their tags with this cell);
- ``parquet``: the chosen columns with their types, for machines.

Klaviyo and Shopify match people by email, so members without one are left out (the stamp says
how many) and an email shared by several customer ids is written once. Klaviyo sends e-mail, so
its list holds only members who accepted e-mail marketing (``accepts_marketing`` true in the
customers file); those who declined and those with no recorded answer are left out and counted
in the stamp, unless the caller explicitly includes them, a choice the stamp and the log record.
The Shopify tags file is not filtered: a tag sends nothing, and Shopify's own e-mail tools check
consent when they send. When the dataset has predictions (the models could be fitted), the
default columns of the csv, klaviyo and parquet files carry the predicted fields; the Shopify
file keeps Shopify's two columns, since an import overwrites every column it holds. A segment
defined on a predicted feature (a churn band) of a dataset whose models cannot be fitted is
refused with the fit's own sentence (``require_predictions``), not written empty. CSV files are
formula-safe (export.py). Every file comes with a stamp: dataset, segment name and definition,
analysis date, window, row count, columns and creation time, written beside it as
``<file>.stamp.json``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd

from dashboard import engines, export, order_rules
from dashboard.behaviour.catalogue import DATE, FEATURES, LIST, PREDICTION_HORIZON_DAYS
from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.definitions import (
    Definition,
    DefinitionError,
    definition_to_dict,
    validate_definition,
)
from dashboard.behaviour.feature_base import build_feature_base
from dashboard.behaviour.feature_table import FeatureParams, attach_rfm, select_measures
from dashboard.behaviour.membership import list_members
from dashboard.predict.model_errors import ModelFitError
from dashboard.rfm import cut_points, schemes
from dashboard.workspace import audit

FORMATS = ("csv", "klaviyo", "shopify-tags", "parquet")
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake")
DEFAULT_COLUMNS = (
    "customer_id",
    "email",
    "orders",
    "net_revenue",
    "last_order_on",
    "rfm_segment",
)
KLAVIYO_DEFAULT_COLUMNS = ("first_name", "country", "orders", "net_revenue", "last_order_on")
# Added to the default columns when the dataset has predictions (``has_predictions``).
PREDICTED_EXPORT_COLUMNS = (
    "predicted_clv",
    "churn_risk",
    "churn_band",
    "expected_next_order_on",
    "p_alive",
    "expected_orders",
    "expected_order_value",
    "historic_clv",
    "total_clv",
)
KLAVIYO_NAMES = {
    "email": "Email",
    "first_name": "First Name",
    "city": "City",
    "country": "Country",
    "p_alive": "Probability active",
    "expected_orders": f"Expected orders (next {PREDICTION_HORIZON_DAYS} days)",
    "expected_order_value": "Expected order value",
    "predicted_clv": "Predicted CLV",
    "predicted_clv_percentile": "Predicted CLV percentile",
    "historic_clv": "Historic CLV",
    "total_clv": "Total CLV",
    "churn_risk": "Churn risk",
    "churn_band": "Churn risk band",
    "expected_next_order_on": "Expected next order date",
    "days_to_next_order": "Days to expected next order",
}
# The consent column each messaging format needs: customers without it true are left out.
CONSENT_COLUMNS = {"klaviyo": "accepts_marketing"}
MAX_TAG_CHARS = 255
SUFFIXES = {"csv": ".csv", "klaviyo": ".csv", "shopify-tags": ".csv", "parquet": ".parquet"}
MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentFile:
    """One export: the file's bytes, its suggested name and MIME type, and its stamp."""

    data: bytes
    file_name: str
    mime: str
    stamp: dict[str, object]

    def stamp_json(self) -> str:
        """Return the stamp as indented JSON text."""
        return json.dumps(self.stamp, indent=2, ensure_ascii=False) + "\n"


def _text_lists(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column in FEATURES and FEATURES[column].kind == LIST:
            out[column] = out[column].map(
                lambda v: "; ".join(v) if v is not None and len(v) else None
            )
    return out


def _merge_tags(existing: object, tag: str) -> str:
    tags = [] if not isinstance(existing, str) else [t.strip() for t in existing.split(",")]
    kept = [t for t in tags if t and t.lower() != tag.lower()]
    return ", ".join([*kept, tag])


def _has_email(members: pd.DataFrame) -> pd.Series:
    emails = members.email.astype("string").str.strip()
    return (emails.notna() & (emails != "")).astype(bool)


def _one_per_email(members: pd.DataFrame) -> pd.DataFrame:
    return members[_has_email(members)].drop_duplicates("email", keep="first")


@dataclass(frozen=True)
class ConsentFilter:
    """Who a messaging export left out for consent: declined, or no answer recorded."""

    column: str | None
    declined: int = 0
    unknown: int = 0
    overridden: bool = False

    def stamp(self) -> dict[str, object]:
        """The stamp's consent fields."""
        if self.column is None:
            return {"consent": "not required by this format"}
        rule = (
            f"included regardless of {self.column}, by explicit choice"
            if self.overridden
            else f"only members with {self.column} = true"
        )
        return {
            "consent": rule,
            "left_out_declined_consent": self.declined,
            "left_out_consent_unknown": self.unknown,
        }


def describe_consent(stamp: dict[str, object]) -> str | None:
    """One sentence on whom an export left out for consent (or included by choice), or None."""
    declined = int(stamp.get("left_out_declined_consent", 0))
    unknown = int(stamp.get("left_out_consent_unknown", 0))
    if not (declined or unknown):
        return None
    people = f"{declined:,} members who declined and {unknown:,} with no recorded answer"
    if str(stamp["consent"]).endswith("by explicit choice"):
        return f"Includes {people} for e-mail marketing, by your explicit choice."
    return (
        f"Leaves out {people} for e-mail marketing (from the customers file): a list for an "
        "e-mail tool holds only customers who accepted."
    )


def filter_consent(
    members: pd.DataFrame, fmt: str, include_without_consent: bool = False
) -> tuple[pd.DataFrame, ConsentFilter]:
    """Keep the members ``fmt`` may message: its CONSENT_COLUMNS column true, unless included.

    In: ``membership.list_members`` output with the consent column (a nullable boolean).
    Out: the kept rows, and the counts of those left out (or included by choice).
    """
    column = CONSENT_COLUMNS.get(fmt)
    if column is None:
        return members, ConsentFilter(None)
    answer = members[column].astype("boolean")
    declined, unknown = int((answer == False).sum()), int(answer.isna().sum())  # noqa: E712
    found = ConsentFilter(column, declined, unknown, include_without_consent)
    if include_without_consent:
        return members, found
    return members[answer.fillna(False).astype(bool)], found


def has_predictions(view: ir.Table) -> bool:
    """Whether any customer of a feature table has a prediction (the models could be fitted)."""
    return bool(view.aggregate(n=view.p_alive.count()).to_pandas().n.iloc[0])


def require_predictions(definition: Definition, missing: Mapping[str, str]) -> None:
    """Raise ModelFitError with the fit's own sentence when ``definition`` selects on a predicted
    feature (a churn band, say) that ``missing`` (``FeatureBase.missing``) says is unavailable:
    an empty file would read as "nobody is at risk" rather than "the models could not be fitted".
    """
    for condition in definition.conditions():
        if FEATURES[condition.feature].source == "predictions" and condition.feature in missing:
            raise ModelFitError(missing[condition.feature])


def default_columns(fmt: str, predictions: bool) -> tuple[str, ...]:
    """Return the columns an export of ``fmt`` holds unless chosen: DEFAULT_COLUMNS (Klaviyo:
    KLAVIYO_DEFAULT_COLUMNS), then PREDICTED_EXPORT_COLUMNS when ``predictions``."""
    plain = KLAVIYO_DEFAULT_COLUMNS if fmt == "klaviyo" else DEFAULT_COLUMNS
    return (*plain, *PREDICTED_EXPORT_COLUMNS) if predictions else plain


def check_tag(tag: str) -> str:
    """Return a usable Shopify tag (1-255 characters, no comma), or raise DefinitionError."""
    tag = tag.strip()
    if not tag or len(tag) > MAX_TAG_CHARS or "," in tag:
        raise DefinitionError(f"A tag is 1-{MAX_TAG_CHARS} characters without a comma.")
    return tag


def shape_members(
    members: pd.DataFrame, fmt: str, segment: str, columns: Sequence[str], tag: str | None = None
) -> pd.DataFrame:
    """Return the table to write for format ``fmt``.

    In: ``membership.list_members`` output holding ``columns``, email and customer_tags.
    """
    if fmt == "parquet":
        frame = members[list(columns)].reset_index(drop=True)
        dates = [c for c in frame.columns if FEATURES[c].kind == DATE]
        # Dates come back from the engine as timestamps; Parquet keeps them as dates.
        return frame.assign(**{c: frame[c].dt.date for c in dates})
    if fmt == "csv":
        return _text_lists(members[list(columns)]).reset_index(drop=True)
    reachable = _one_per_email(members)
    if fmt == "klaviyo":
        properties = [c for c in columns if c != "email"]
        frame = _text_lists(reachable[["email", *properties]]).rename(
            columns={c: KLAVIYO_NAMES.get(c, FEATURES[c].label) for c in ["email", *properties]}
        )
        return frame.assign(Segment=segment).reset_index(drop=True)
    if fmt == "shopify-tags":
        chosen = check_tag(tag or segment)
        tags = reachable.customer_tags.map(lambda v: _merge_tags(v, chosen))
        return pd.DataFrame({"Email": reachable.email, "Tags": tags}).reset_index(drop=True)
    raise DefinitionError(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """Return a shaped table as Parquet bytes, or formula-safe CSV bytes for the other formats."""
    if fmt != "parquet":
        return export.to_csv_bytes(frame)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def export_segment(
    view: ir.Table,
    definition: Definition,
    fmt: str,
    dataset: str,
    segment: str,
    window: order_rules.Window,
    columns: Sequence[str] | None = None,
    tag: str | None = None,
    include_without_consent: bool = False,
    playbook: dict[str, object] | None = None,
) -> SegmentFile:
    """Return a segment's members as a stamped file; the stamp carries ``playbook``, the
    segment's playbook entry (``dashboard.playbook.describe_for_stamp``), when given.

    In: a feature table with every FEATURE_SCHEMA column (``compiler.feature_view``) and the
    definition to filter it. ``columns`` default to ``default_columns`` (with the predicted
    fields when the view has predictions); they must be features. A messaging format keeps only
    members who accepted it (``filter_consent``) unless ``include_without_consent``, which is
    logged.
    """
    if fmt not in FORMATS:
        raise DefinitionError(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")
    if columns is None:
        columns = default_columns(fmt, fmt != "shopify-tags" and has_predictions(view))
    chosen = list(dict.fromkeys(columns))
    consent_column = CONSENT_COLUMNS.get(fmt)
    needed = list(
        dict.fromkeys(
            ["customer_id", *chosen, "email", "customer_tags"]
            + ([consent_column] if consent_column else [])
        )
    )
    condition = compile_definition(view, validate_definition(definition))
    everyone = list_members(view, condition, needed)
    members, consent = filter_consent(everyone, fmt, include_without_consent)
    if consent.overridden and (consent.declined or consent.unknown):
        _log.warning(
            "Export of segment %r of dataset %r as %s includes %d members who declined and %d "
            "with no recorded answer for %s, by explicit choice.",
            segment,
            dataset,
            fmt,
            consent.declined,
            consent.unknown,
            consent.column,
        )
    frame = shape_members(members, fmt, segment, chosen, tag)
    without_email = int((~_has_email(members)).sum())
    by_email = fmt in ("klaviyo", "shopify-tags")
    stamp = {
        "dataset": dataset,
        "segment": segment,
        "format": fmt,
        "analysis_date": window.as_of.isoformat(),
        "window_start": window.start.isoformat() if window.start else None,
        "row_count": len(frame),
        "members": len(everyone),
        **consent.stamp(),
        "left_out_without_email": without_email if by_email else 0,
        "left_out_duplicate_email": len(members) - without_email - len(frame) if by_email else 0,
        "columns": [str(c) for c in frame.columns],
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "definition": definition_to_dict(definition),
        "playbook": playbook,
    }
    slug = UNSAFE_FILE_CHARACTERS.sub("-", segment).strip("-").lower() or "segment"
    file_name = f"{dataset}-{slug}-{fmt}{SUFFIXES[fmt]}"
    return SegmentFile(to_bytes(frame, fmt), file_name, MIME.get(fmt, "text/csv"), stamp)


def stamp_path(path: Path) -> Path:
    """Return where the stamp of the file at ``path`` goes: ``<file>.stamp.json``."""
    return path.with_name(path.name + ".stamp.json")


def write_segment_file(exported: SegmentFile, path: Path) -> Path:
    """Write the file to ``path`` and its stamp beside it; return the stamp's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(exported.data)
    stamped = stamp_path(path)
    stamped.write_text(exported.stamp_json(), encoding="utf-8")
    return stamped


def export_to_file(
    tables: engines.EngineTables,
    workspace: Path,
    dataset: str,
    definition: Definition,
    segment: str,
    fmt: str,
    out: Path,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    columns: Sequence[str] | None = None,
    tag: str | None = None,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    include_without_consent: bool = False,
    scheme: schemes.Scheme | None = None,
    playbook: dict[str, object] | None = None,
) -> SegmentFile:
    """Build the dataset's features, export the segment to ``out`` with its stamp (the CLI).

    In: the dataset's tables on any engine (``engines.open_tables``); ``workspace`` holds the
    custom schemes a definition may name. The same steps as the app:
    ``feature_base.build_feature_base`` (default channel rules, ``counting``), the RFM columns of
    the definition's own scoring (of ``scheme`` with the definition's cut points when given, for
    a scheme read from a file), then ``export_segment``. A definition on a predicted feature
    (a churn band) of a dataset whose models cannot be fitted raises that ModelFitError
    (``require_predictions``) instead of writing an empty file.
    """
    params = FeatureParams(counting=counting)
    base = build_feature_base(tables, dataset, as_of=as_of, start=start, params=params)
    try:
        require_predictions(definition, base.missing)
        if scheme is None:
            view = feature_view(base.table, definition.rfm, workspace)
        else:
            scoring = cut_points.ScoringSpec(scheme, definition.rfm.cuts)
            cuts = cut_points.resolve_cuts(select_measures(base.table), scoring)
            view = attach_rfm(base.table, scheme, cuts)
        exported = export_segment(
            view,
            definition,
            fmt,
            dataset,
            segment,
            base.window,
            columns,
            tag,
            include_without_consent,
            playbook,
        )
    finally:
        base.close()
    write_segment_file(exported, out)
    audit.record_event(
        workspace, "export", dataset, segment=segment, rows=exported.stamp["row_count"], format=fmt
    )
    return exported
