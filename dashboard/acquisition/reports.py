"""Channels, spend, cohorts and maturity of one dataset, as the pages and the CLI report show them.

One set of functions takes the dataset's tables on any engine (``compute_*``,
``build_attribution``) and returns plain DataFrames, so the Channels, Cohorts and Maturity pages
and ``python -m dashboard report`` always show the same numbers, on DuckDB or on Spark. The
``load_*`` loaders open the dataset on the configured engine (``engines.open_configured_tables``)
and call them. The expensive step, evaluating the channel rules on every customer's first order,
is done once (``build_attribution``) and its result reused by every other step.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd

from dashboard import engines, order_rules
from dashboard.acquisition import (
    channel_rules,
    channels,
    cohorts,
    maturity,
    spend,
    spend_effort,
    traffic,
)
from dashboard.rfm import analysis
from dashboard.workspace import store

SPEND_TABLE = "marketing_spend"


@dataclass(frozen=True)
class Settings:
    """The analyst's choices: channel rules, spend mapping, first-order period, CLV, stages and
    which orders count (the sidebar's counting rules, as on every page).

    Rules and mapping are tuples of rows (see ``channels.RULE_COLUMNS`` and
    ``spend.MAPPING_COLUMNS``) so that settings can key a cache.
    """

    rules: tuple[tuple[object, ...], ...] = channels.DEFAULT_RULES
    spend_mapping: tuple[tuple[str, str], ...] = spend.DEFAULT_MAPPING
    first_from: dt.date | None = None
    first_to: dt.date | None = None
    expected_years: float = spend.DEFAULT_EXPECTED_YEARS
    thresholds: maturity.StageThresholds = field(default=maturity.DEFAULT_THRESHOLDS)
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES

    def rules_frame(self) -> pd.DataFrame:
        """Return the channel rules as a table (channels.RULE_COLUMNS)."""
        return pd.DataFrame(list(self.rules), columns=channels.RULE_COLUMNS)

    def mapping_frame(self) -> pd.DataFrame:
        """Return the spend mapping as a table (spend.MAPPING_COLUMNS)."""
        return pd.DataFrame(list(self.spend_mapping), columns=spend.MAPPING_COLUMNS)


DEFAULT_SETTINGS = Settings()


def rows_of(table: pd.DataFrame) -> tuple[tuple[object, ...], ...]:
    """Return a table's rows as a tuple of plain-Python tuples (hashable, for Settings)."""
    return tuple(
        tuple(v.item() if hasattr(v, "item") else v for v in row)
        for row in table.itertuples(index=False)
    )


@dataclass(frozen=True)
class ChannelReport:
    """Everything the Channels page shows for one period.

    ``table``: channels.SUMMARY_COLUMNS; ``cac``: spend.CAC_COLUMNS; ``economics``:
    spend.ECONOMICS_COLUMNS (both empty without spend rows); ``unmapped``: acquisition spend
    names that no mapping row covers; ``unattributed_note``: the period's Unattributed share
    and what would fill it (``channels.describe_unattributed``), None when nobody is;
    ``campaigns``: spend.CAMPAIGN_COLUMNS (empty when no spend row names a campaign).
    """

    table: pd.DataFrame
    cac: pd.DataFrame
    economics: pd.DataFrame
    has_spend: bool
    unmapped: tuple[str, ...]
    unattributed_note: str | None = None
    campaigns: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=spend.CAMPAIGN_COLUMNS)
    )


@dataclass(frozen=True)
class MaturityReport:
    """Everything the Maturity page shows: the store's totals, stage per month, effort comparison
    and the verdicts."""

    store: maturity.StoreTotals
    stages: pd.DataFrame
    effort: pd.DataFrame
    paragraph: str
    health_level: str
    health_text: str
    effort_verdict: spend_effort.EffortVerdict


def build_attribution(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    rules: pd.DataFrame,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Return ``channels.attribute_channels`` of a dataset's tables as a DataFrame, by customer_id.

    In: the dataset's tables on any engine (``orders`` used). Out: ATTRIBUTION_SCHEMA columns;
    first_order_on holds ``datetime.date`` values.
    """
    table = channels.attribute_channels(tables["orders"], rules, as_of, counting)
    frame = table.order_by("customer_id").to_pandas()
    frame["first_order_on"] = pd.to_datetime(frame.first_order_on).dt.date
    return frame


def load_attribution(
    workspace: Path,
    dataset: str,
    as_of: dt.date,
    rules: pd.DataFrame,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Return ``build_attribution`` of the dataset on the configured engine."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_attribution(tables, as_of, rules, counting)


def build_cohort_table(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    attribution: pd.DataFrame,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Return ``cohorts.build_cohort_cells`` of a dataset's tables for a loaded attribution."""
    return cohorts.build_cohort_cells(
        tables["orders"], channels.to_attribution_table(attribution), as_of, counting
    )


def load_cohort_table(
    workspace: Path,
    dataset: str,
    as_of: dt.date,
    attribution: pd.DataFrame,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Return ``build_cohort_table`` of the dataset on the configured engine."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_cohort_table(tables, as_of, attribution, counting)


def _has_spend_rows(tables: Mapping[str, ir.Table]) -> bool:
    table = tables.get(SPEND_TABLE)
    return table is not None and int(table.count().execute()) > 0


def _read_spend(tables: Mapping[str, ir.Table], settings: Settings) -> ir.Table | None:
    if not _has_spend_rows(tables):
        return None
    return spend.map_spend(tables[SPEND_TABLE], settings.mapping_frame())


def filter_cohort_months(
    cells: pd.DataFrame, first_from: dt.date | None, first_to: dt.date | None
) -> pd.DataFrame:
    """Keep the cohort cells whose first-order month overlaps [first_from, first_to]."""
    keep = pd.Series(True, index=cells.index)
    if first_from is not None:
        keep &= cells.cohort_month >= first_from.replace(day=1)
    if first_to is not None:
        keep &= cells.cohort_month <= first_to
    return cells[keep]


def build_channel_report(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    settings: Settings,
    attribution: pd.DataFrame,
    cells: pd.DataFrame,
) -> ChannelReport:
    """Per-channel table for the settings' period, and CAC / CLV : CAC when spend is loaded.

    In: the dataset's tables on any engine (orders, marketing_spend), a loaded attribution and
    its cohort cells (``build_cohort_table``).
    """
    attributed = channels.to_attribution_table(attribution)
    table = channels.summarise_channels(
        tables["orders"],
        attributed,
        as_of,
        settings.first_from,
        settings.first_to,
        settings.counting,
    )
    note = channels.describe_unattributed(
        select_period(attribution, settings.first_from, settings.first_to)
    )
    mapped = _read_spend(tables, settings)
    if mapped is None:
        empty_cac = pd.DataFrame(columns=spend.CAC_COLUMNS)
        return ChannelReport(
            table, empty_cac, pd.DataFrame(columns=spend.ECONOMICS_COLUMNS), False, (), note
        )
    cac = spend.summarise_cac(mapped, attributed, settings.first_from, settings.first_to)
    unmapped = mapped.filter(
        (mapped.channel == spend.UNMAPPED) & (mapped.purpose == spend.ACQUISITION)
    )
    unmapped_names = tuple(sorted(unmapped.spend_channel.to_pandas().unique()))
    in_period = filter_cohort_months(cells, settings.first_from, settings.first_to)
    curves = {
        name: cohorts.average_curve(cohorts.combine_cohorts(in_period, [name]))
        for name in cac.channel.unique()
    }
    curves[spend.PAID_CHANNELS] = cohorts.average_curve(
        cohorts.combine_cohorts(in_period, channel_rules.PAID_GROUPS)
    )
    curves[spend.ALL_CHANNELS] = cohorts.average_curve(cohorts.combine_cohorts(in_period))
    opened = (
        maturity.count_whole_months(min(attribution.first_order_on), as_of)
        if len(attribution)
        else None
    )
    economics = spend.summarise_economics(table, cac, curves, settings.expected_years, opened)
    campaigns = spend.summarise_campaign_cac(
        mapped, tables["orders"], attributed, settings.first_from, settings.first_to
    )
    return ChannelReport(table, cac, economics, True, unmapped_names, note, campaigns)


def load_channel_report(
    workspace: Path,
    dataset: str,
    as_of: dt.date,
    settings: Settings,
    attribution: pd.DataFrame,
    cells: pd.DataFrame,
) -> ChannelReport:
    """Return ``build_channel_report`` of the dataset on the configured engine."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_channel_report(tables, as_of, settings, attribution, cells)


def build_maturity(
    tables: Mapping[str, ir.Table],
    dataset: str,
    as_of: dt.date,
    settings: Settings,
    economics: pd.DataFrame | None = None,
    attribution: pd.DataFrame | None = None,
) -> MaturityReport:
    """The store's totals, stage per month, recommended vs actual retention share, CLV : CAC
    health for the stage, and the stage period's spend effort (``spend_effort.judge_effort``).

    In: the dataset's tables on any engine (orders, marketing_spend). ``economics``
    (spend.ECONOMICS_COLUMNS) gives the all-channels CLV : CAC and the budget ranking; without
    it the health is "unknown". ``attribution`` (``build_attribution``) gives the Direct signal.
    """
    orders = tables["orders"]
    totals = maturity.summarise_store(orders, as_of, settings.counting)
    stages = maturity.detect_stages(orders, as_of, settings.thresholds, settings.counting)
    returning = maturity.summarise_returning(orders, as_of, settings.counting)
    mapped = _read_spend(tables, settings)
    by_month = spend.summarise_effort_spend(mapped) if mapped is not None else None
    if stages.empty:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no valid orders yet.")
    effort = maturity.compare_effort(stages, returning, by_month)
    ratio = math.nan
    if economics is not None and not economics.empty:
        total = economics[economics.channel == spend.ALL_CHANNELS]
        ratio = float(total.clv_to_cac.iloc[0]) if not total.empty else math.nan
    level, text = spend.assess_clv_cac(ratio, int(stages.months_open.iloc[-1]))
    paragraph = maturity.describe_current_stage(stages, effort, settings.thresholds)
    period = spend_effort.find_stage_period(stages, settings.thresholds)
    split = (
        spend_effort.summarise_spend_split(tables[SPEND_TABLE], period)
        if mapped is not None
        else None
    )
    verdict = spend_effort.judge_effort(stages, split, attribution, economics, settings.thresholds)
    return MaturityReport(totals, stages, effort, paragraph, level, text, verdict)


def load_maturity(
    workspace: Path,
    dataset: str,
    as_of: dt.date,
    settings: Settings,
    economics: pd.DataFrame | None = None,
    attribution: pd.DataFrame | None = None,
) -> MaturityReport:
    """Return ``build_maturity`` of the dataset on the configured engine."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_maturity(tables, dataset, as_of, settings, economics, attribution)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, object] = {}
        for key, value in row.items():
            if isinstance(value, dt.date):
                clean[str(key)] = value.isoformat()
            elif pd.isna(value):
                clean[str(key)] = None
            elif hasattr(value, "item"):
                clean[str(key)] = value.item()
            else:
                clean[str(key)] = value
        out.append(clean)
    return out


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


NO_TRAFFIC_NOTE = (
    "No GA4 acquisition report is loaded, so there are no sessions by channel; load a GA4 "
    "traffic acquisition report (Week as a dimension) to add them."
)


def build_traffic_section(
    tables: Mapping[str, ir.Table], as_of: dt.date, settings: Settings = DEFAULT_SETTINGS
) -> dict[str, object]:
    """The report's ``traffic`` section: the Channels page's traffic table and the Maturity
    page's Direct share of sessions, as JSON-ready values.

    In: the dataset's tables on any engine (``channel_sessions``); periods starting in
    [first_from, first_to or as_of], as on the Channels page. Out: from, to, periods
    (first_start, last_start, count; None without rows), channels (``traffic.TRAFFIC_COLUMNS``
    rows, revenue as a number), direct_share (the last complete months before as_of; None
    without sessions there) and note (why the section is empty, else None).
    """
    last_day = settings.first_to or as_of
    section: dict[str, object] = {
        "from": settings.first_from.isoformat() if settings.first_from else None,
        "to": last_day.isoformat(),
        "periods": None,
        "channels": [],
        "direct_share": None,
        "note": None,
    }
    if not traffic.has_traffic(tables):
        return {**section, "note": NO_TRAFFIC_NOTE}
    sessions = tables[traffic.TABLE]
    share = traffic.summarise_direct_share(
        traffic.build_direct_share_by_month(sessions).to_pandas(), as_of
    )
    if share is not None:
        section["direct_share"] = {
            "first_month": share.first_month.isoformat(),
            "last_month": share.last_month.isoformat(),
            "sessions": share.sessions,
            "direct_sessions": share.direct_sessions,
            "share": share.share,
        }
    covered = traffic.build_periods_covered(sessions, settings.first_from, last_day).to_pandas()
    if int(covered.periods.iloc[0]) == 0:
        section["note"] = "The GA4 reports loaded hold no week or month starting in this period."
        return section
    first, last = (pd.Timestamp(covered[c].iloc[0]).date() for c in ("first_start", "last_start"))
    section["periods"] = {
        "first_start": first.isoformat(),
        "last_start": last.isoformat(),
        "count": int(covered.periods.iloc[0]),
    }
    table = traffic.build_traffic_by_channel(sessions, settings.first_from, last_day).to_pandas()
    # Revenue is DECIMAL (exact on every engine); JSON carries it as a number.
    table["revenue"] = [None if pd.isna(v) else float(v) for v in table.revenue]
    section["channels"] = _records(table)
    return section


def build_report(
    tables: Mapping[str, ir.Table],
    dataset: str,
    as_of: dt.date,
    settings: Settings = DEFAULT_SETTINGS,
) -> dict[str, object]:
    """The JSON-ready report of ``python -m dashboard report``: the pages' numbers as records.

    In: the dataset's tables on any engine. Out: keys dataset, as_of, store (the store's totals,
    ``maturity.StoreTotals``, guest orders included), period, channels (SUMMARY_COLUMNS rows),
    unattributed_note (a sentence or None), spend (cac by month and by campaign, and economics
    rows, empty without spend;
    blended_cac and paid_cac, None without them), cohorts (all channels, COHORT_COLUMNS
    rows), cohort_curve, stages (STAGE_COLUMNS rows), effort (EFFORT_COLUMNS rows),
    current_stage (paragraph, CLV : CAC health and effort: ``spend_effort.convert_to_record``),
    traffic (``build_traffic_section``),
    warnings (sentences: several currencies added up, no customer key).
    """
    attribution = build_attribution(tables, as_of, settings.rules_frame(), settings.counting)
    cells = build_cohort_table(tables, as_of, attribution, settings.counting)
    report = build_channel_report(tables, as_of, settings, attribution, cells)
    matured = build_maturity(tables, dataset, as_of, settings, report.economics, attribution)
    combined = cohorts.combine_cohorts(cells)
    return {
        "dataset": dataset,
        "as_of": as_of.isoformat(),
        "store": _records(pd.DataFrame([asdict(matured.store)]))[0],
        "period": {
            "first_order_from": settings.first_from.isoformat() if settings.first_from else None,
            "first_order_to": settings.first_to.isoformat() if settings.first_to else None,
        },
        "channels": _records(report.table),
        "unattributed_note": report.unattributed_note,
        "spend": {
            "cac_by_month": _records(report.cac),
            "cac_by_campaign": _records(report.campaigns),
            "economics": _records(report.economics),
            "blended_cac": _number(spend.read_cac(report.economics, spend.ALL_CHANNELS)),
            "paid_cac": _number(spend.read_cac(report.economics, spend.PAID_CHANNELS)),
            "unmapped_spend_names": list(report.unmapped),
            "expected_years": settings.expected_years,
        },
        "cohorts": _records(combined),
        "cohort_curve": _records(cohorts.average_curve(combined)),
        "stages": _records(matured.stages),
        "effort": _records(matured.effort),
        "current_stage": {
            "stage": str(matured.stages.stage.iloc[-1]),
            "paragraph": matured.paragraph,
            "clv_to_cac_health": matured.health_level,
            "clv_to_cac_text": matured.health_text,
            "effort": spend_effort.convert_to_record(matured.effort_verdict),
        },
        "traffic": build_traffic_section(tables, as_of, settings),
        "warnings": [
            sentence
            for sentence in (
                order_rules.describe_currency_mix(tables["orders"]),
                analysis.find_missing_customer_key(tables["orders"]),
            )
            if sentence
        ],
    }


def has_spend(workspace: Path, dataset: str) -> bool:
    """Return whether the dataset holds marketing spend rows (on the configured engine)."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return _has_spend_rows(tables)


def select_period(
    attribution: pd.DataFrame, first_from: dt.date | None, first_to: dt.date | None
) -> pd.DataFrame:
    """Keep the attributed customers whose first order is in [first_from, first_to]."""
    keep = pd.Series(True, index=attribution.index)
    if first_from is not None:
        keep &= attribution.first_order_on >= first_from
    if first_to is not None:
        keep &= attribution.first_order_on <= first_to
    return attribution[keep]


def count_evidence(attribution: pd.DataFrame) -> pd.DataFrame:
    """Customers per channel and evidence (channel, evidence, customers), most frequent first.

    In: a loaded attribution. Shows which rule decided how many customers, to tune the rules.
    """
    counts = attribution.groupby(["channel", "evidence"]).size().rename("customers")
    return counts.reset_index().sort_values(["customers", "channel"], ascending=[False, True])
