"""Whether the store's spend fits its maturity stage, and where acquisition money works hardest.

docs/acquisition.md §6 ("Effort: spend, Direct and budget"). Everything is read over the
**stage's period**: from the first month of the run of the stage held in the last complete month
(``maturity.find_stage_since``) to that month's last day. Three judgements:

- **Spend split**: the share of marketing spend whose purpose is ``retention`` against the stage's
  recommended retention share, give or take ``TOLERANCE`` (the 10 points of the returning-revenue
  verdict): below the range, move budget to retention; above it, to acquisition. A row without a
  purpose counts as acquisition (``spend.map_spend``), but when no row of the period is tagged
  acquisition or retention there is nothing to judge and the sentence names the purpose column.
- **Direct signal**: the share of the period's new customers whose first valid order is
  attributed to Direct. The article's last stage has "most new customers from direct traffic":
  more than ``DIRECT_MAJORITY``. It is evidence and never changes the stage.
- **Budget**: the channels with acquisition spend and new customers, from the Channels page's
  CAC and CLV : CAC (``spend.summarise_economics``), best CLV : CAC first, then lowest CAC.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import formatting, portable
from dashboard.acquisition import maturity, spend

TOLERANCE = 0.10
DIRECT = "Direct"
DIRECT_MAJORITY = 0.5
BUDGET_SHOWN = 3
BUDGET_COLUMNS = ["rank", "channel", "acquisition_spend", "new_customers", "cac", "clv_to_cac"]


@dataclass(frozen=True)
class StagePeriod:
    """The stage held in the last complete month and the months it has held.

    ``first_month`` (first day) to ``last_day`` (the headline month's evaluation day);
    ``recommended``: the stage's recommended retention share.
    """

    stage: str
    first_month: dt.date
    last_day: dt.date
    recommended: float

    def describe(self) -> str:
        """Return the period in words: "in May 2025" or "from March 2024 to May 2025"."""
        if (self.first_month.year, self.first_month.month) == (
            self.last_day.year,
            self.last_day.month,
        ):
            return f"in {self.last_day:%B %Y}"
        return f"from {self.first_month:%B %Y} to {self.last_day:%B %Y}"


@dataclass(frozen=True)
class SpendSplit:
    """Marketing spend of a period: the total, the part tagged retention, how many rows there
    are and how many carry a purpose of acquisition or retention."""

    spend: float
    retention_spend: float
    rows: int
    tagged_rows: int


@dataclass(frozen=True)
class SpendVerdict:
    """The spend split judged against the stage: judgement ("less", "about right", "more", "no
    purpose" or "no spend"), the retention share of spend (None when there is nothing to judge),
    the recommended range and the sentence."""

    judgement: str
    retention_share: float | None
    low: float
    high: float
    spend: float
    retention_spend: float
    sentence: str


@dataclass(frozen=True)
class DirectSignal:
    """The period's new customers, those attributed to Direct, their share (None without new
    customers), whether most came direct, and the sentence."""

    new_customers: int
    direct_customers: int
    share: float | None
    holds: bool
    sentence: str


@dataclass(frozen=True)
class EffortVerdict:
    """The three judgements of the stage's period (module docstring).

    ``direct`` is None when no attribution was given; ``budget``: BUDGET_COLUMNS, empty without
    acquisition spend; ``budget_sentence`` says where to move acquisition budget, or why not.
    """

    period: StagePeriod
    spend: SpendVerdict
    direct: DirectSignal | None
    budget: pd.DataFrame
    budget_sentence: str


def find_stage_period(
    stages: pd.DataFrame, thresholds: maturity.StageThresholds = maturity.DEFAULT_THRESHOLDS
) -> StagePeriod:
    """Return the period of the stage held in the last complete month.

    In: ``maturity.detect_stages`` output (non-empty).
    """
    position = maturity.find_headline(stages)
    current = stages.iloc[position]
    stage = str(current.stage)
    return StagePeriod(
        stage=stage,
        first_month=maturity.find_stage_since(stages, position),
        last_day=current.evaluated_on,
        recommended=thresholds.recommended_share(stage),
    )


def summarise_spend_split(spend_rows: ir.Table, period: StagePeriod) -> SpendSplit:
    """Return the spend of the period's months by purpose.

    In: the ``marketing_spend`` table (month, spend, purpose). A purpose is read trimmed and in
    lower case, as ``spend.map_spend`` reads it.
    """
    after = (pd.Timestamp(period.last_day) + pd.offsets.MonthBegin(1)).date()
    rows = spend_rows.filter(
        (spend_rows.month >= ibis.literal(period.first_month))
        & (spend_rows.month < ibis.literal(after))
    )
    purpose = portable.strip(rows.purpose).lower()
    row = (
        rows.aggregate(
            spend=rows.spend.sum().cast("float64"),
            retention_spend=rows.spend.sum(where=purpose == spend.RETENTION).cast("float64"),
            rows=rows.count(),
            tagged_rows=rows.count(where=purpose.isin([spend.ACQUISITION, spend.RETENTION])),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return SpendSplit(
        spend=row["spend"] or 0.0,
        retention_spend=row["retention_spend"] or 0.0,
        rows=int(row["rows"]),
        tagged_rows=int(row["tagged_rows"]),
    )


def _format_range(low: float, high: float) -> str:
    return f"{low * 100:.0f}-{high * 100:.0f}%"


def judge_spend_split(
    split: SpendSplit | None, period: StagePeriod, tolerance: float = TOLERANCE
) -> SpendVerdict:
    """Judge the retention share of the period's spend against the stage's recommendation.

    ``split`` is None when the dataset holds no spend at all. The share is "about right" within
    ``tolerance`` of the recommendation (bounds included), else "less" or "more".
    """
    low = max(0.0, period.recommended - tolerance)
    high = min(1.0, period.recommended + tolerance)
    wanted = _format_range(low, high)
    total = split.spend if split else 0.0
    kept = split.retention_spend if split else 0.0

    def verdict(judgement: str, share: float | None, sentence: str) -> SpendVerdict:
        return SpendVerdict(judgement, share, low, high, total, kept, sentence)

    if split is None:
        return verdict(
            "no spend",
            None,
            "No marketing spend is loaded: load spend by month and channel with a purpose "
            f"column (acquisition or retention) to judge it against the stage's {wanted} on "
            "retention.",
        )
    if split.rows == 0 or total <= 0:
        return verdict(
            "no spend",
            None,
            f"No spend is loaded {period.describe()}, the stage's period, so its split cannot be "
            "judged.",
        )
    if split.tagged_rows == 0:
        return verdict(
            "no purpose",
            None,
            f"The spend {period.describe()} has no purpose: fill the spend file's purpose column "
            "with acquisition or retention on each row to judge the split against the stage's "
            f"{wanted} on retention.",
        )
    share = kept / total
    said = (
        f"You spend {share:.0%} on retention ({period.describe()}); a store at this stage "
        f"should spend about {wanted}"
    )
    # A hair of float error must not turn a share on the bound into "less" or "more".
    if share < low - 1e-9:
        return verdict("less", share, f"{said}: move budget to retention.")
    if share > high + 1e-9:
        return verdict("more", share, f"{said}: move budget to acquisition.")
    return verdict("about right", share, f"{said}: about right, keep the split.")


def measure_direct_signal(
    attribution: pd.DataFrame, period: StagePeriod, majority: float = DIRECT_MAJORITY
) -> DirectSignal:
    """Return the share of the period's new customers whose first order is attributed to Direct.

    In: a loaded attribution (customer_id, first_order_on as dates, channel). "Most" is more than
    ``majority``; the sentence reads it against the last stage, Well established.
    """
    first = attribution.first_order_on
    new = attribution[(first >= period.first_month) & (first <= period.last_day)]
    count, direct = len(new), int((new.channel == DIRECT).sum())
    if count == 0:
        return DirectSignal(
            0,
            0,
            None,
            False,
            f"No customer placed a first order {period.describe()}, so the last stage's sign "
            "(most new customers come direct) cannot be read.",
        )
    share = direct / count
    holds = share > majority
    said = (
        f"{share:.0%} of the {count:,} new customers {period.describe()} came direct (first "
        "order attributed to Direct)"
    )
    last = maturity.STAGES[-1]
    if period.stage == last:
        sentence = (
            f"{said}: most new customers come from direct traffic, as expected of a "
            "well-established store."
            if holds
            else f"{said}: a well-established store gets most (over {majority:.0%}) of its new "
            "customers direct, so growth still leans on the other channels."
        )
    else:
        sentence = (
            f"{said}: most new customers come direct, a sign of the last stage (well "
            "established) that the sales signals have not reached."
            if holds
            else f"{said}; most (over {majority:.0%}) come direct once a store is well established."
        )
    return DirectSignal(count, direct, share, holds, sentence)


def rank_budget_channels(economics: pd.DataFrame) -> pd.DataFrame:
    """Rank the channels where acquisition money works hardest.

    In: ``spend.summarise_economics`` output. Out: BUDGET_COLUMNS, one row per channel with
    acquisition spend and new customers (the paid and blended totals and Unmapped spend left
    out), best CLV : CAC first (a channel without one after those with one), then lowest CAC,
    then channel name; rank from 1.
    """
    totals = {spend.PAID_CHANNELS, spend.ALL_CHANNELS, spend.UNMAPPED}
    rows = economics[~economics.channel.isin(totals) & economics.cac.notna()]
    ranked = rows.sort_values(
        ["clv_to_cac", "cac", "channel"], ascending=[False, True, True], na_position="last"
    ).reset_index(drop=True)
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    return ranked[BUDGET_COLUMNS].astype({"acquisition_spend": "float64", "cac": "float64"})


def _describe_channel(row: pd.Series, currency: str | None) -> str:
    ratio = "no CLV : CAC" if pd.isna(row.clv_to_cac) else f"CLV : CAC {row.clv_to_cac:.1f} : 1"
    return f"{row.channel} ({ratio}, CAC {formatting.format_money(row.cac, currency)})"


def describe_budget(ranked: pd.DataFrame, currency: str | None = None) -> str:
    """Return where to move acquisition budget, from ``rank_budget_channels`` output.

    Names the first ``BUDGET_SHOWN`` channels, and the last one ranked below them as where to
    take budget from. A channel without CLV : CAC (customers not seen a year yet) is not named
    as the one to take from while another channel has one: its worth is not known.
    """
    if ranked.empty:
        return (
            "No channel has both acquisition spend and new customers, so there is no CAC to "
            "rank channels by: load spend by channel (purpose acquisition or empty)."
        )
    best = [
        f"{int(row['rank'])}. {_describe_channel(row, currency)}"
        for _, row in ranked.head(BUDGET_SHOWN).iterrows()
    ]
    sentence = "Acquisition money works hardest in " + "; ".join(best) + "."
    rest = ranked.iloc[BUDGET_SHOWN:]
    if ranked.clv_to_cac.notna().any():
        rest = rest[rest.clv_to_cac.notna()]
    if not rest.empty:
        sentence += f" Move budget there from {_describe_channel(rest.iloc[-1], currency)}."
    return sentence


def judge_effort(
    stages: pd.DataFrame,
    split: SpendSplit | None,
    attribution: pd.DataFrame | None,
    economics: pd.DataFrame | None,
    thresholds: maturity.StageThresholds = maturity.DEFAULT_THRESHOLDS,
) -> EffortVerdict:
    """The spend split, the Direct signal and the budget ranking of the stage's period.

    In: ``maturity.detect_stages`` output (non-empty); ``summarise_spend_split`` of the stage's
    period (None without spend); a loaded attribution (None to skip the Direct signal);
    ``spend.summarise_economics`` output (None or empty without acquisition spend).
    """
    period = find_stage_period(stages, thresholds)
    if economics is None or economics.empty:
        ranked = pd.DataFrame(columns=BUDGET_COLUMNS)
    else:
        ranked = rank_budget_channels(economics)
    return EffortVerdict(
        period=period,
        spend=judge_spend_split(split, period),
        direct=None if attribution is None else measure_direct_signal(attribution, period),
        budget=ranked,
        budget_sentence=describe_budget(ranked),
    )


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def convert_to_record(verdict: EffortVerdict) -> dict[str, object]:
    """Return the verdict as JSON-ready values (the report's ``current_stage.effort``).

    Keys: stage, period_from, period_to, recommended_retention_share, recommended_range
    ([low, high]), spend, retention_spend, retention_spend_share, judgement, sentence, direct
    (new_customers, direct_customers, share, threshold, holds, sentence; None without
    attribution), budget (BUDGET_COLUMNS rows), budget_sentence.
    """
    period, split, direct = verdict.period, verdict.spend, verdict.direct
    return {
        "stage": period.stage,
        "period_from": period.first_month.isoformat(),
        "period_to": period.last_day.isoformat(),
        "recommended_retention_share": period.recommended,
        "recommended_range": [split.low, split.high],
        "spend": split.spend,
        "retention_spend": split.retention_spend,
        "retention_spend_share": split.retention_share,
        "judgement": split.judgement,
        "sentence": split.sentence,
        "direct": None
        if direct is None
        else {
            "new_customers": direct.new_customers,
            "direct_customers": direct.direct_customers,
            "share": direct.share,
            "threshold": DIRECT_MAJORITY,
            "holds": direct.holds,
            "sentence": direct.sentence,
        },
        "budget": [
            {str(k): _plain(v) for k, v in row.items()}
            for row in verdict.budget.to_dict(orient="records")
        ],
        "budget_sentence": verdict.budget_sentence,
    }
