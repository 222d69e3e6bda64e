"""Find a segment by name among the four kinds the exports take, as a builder Definition.

Kinds, searched in this order when none is given (the first that holds the name wins):

- ``saved``: a segment saved in the app for the dataset (``segment_store``);
- ``rfm``: a group of the chosen RFM scheme, Prospects included (``rfm_segment == name``);
- ``preset``: a behavioural preset, by key or name, with its default parameters;
- ``band``: a predicted churn band, Low, Medium or High (``churn_band == name``), fitted with the
  catalogue's fixed prediction settings (``feature_base.PREDICTION_SETTINGS``); when the models
  cannot be fitted, its export raises the ModelFitError (``segment_export.require_predictions``).

So when a saved segment and an RFM group share a name, the saved segment wins unless the kind
``rfm`` is asked for. Every Definition carries the RFM scoring given (scheme key and cut points),
so the r_score, f_score, m_score and rfm_segment columns of the export are that scheme's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.behaviour import presets, segment_store
from dashboard.behaviour.definitions import Condition, Definition, Group, RfmSpec
from dashboard.errors import UserError
from dashboard.predict.overview import CHURN_BANDS
from dashboard.rfm import cut_points, schemes

KINDS = ("saved", "rfm", "preset", "band")


class UnknownSegmentError(UserError):
    """A segment name found in none of the kinds searched."""


@dataclass(frozen=True)
class NamedSegment:
    """A segment found by name: its kind (one of KINDS), its name and its definition."""

    kind: str
    name: str
    definition: Definition


def define_rfm_segment(scheme: schemes.Scheme, segment: str, rfm: RfmSpec) -> Definition:
    """Return the Definition of the RFM group ``segment`` of ``scheme`` scored by ``rfm``."""
    return Definition(
        (Group((Condition("rfm_segment", "==", segment),)),),
        rfm=rfm,
        description=f"RFM segment {segment} of scheme {scheme.name}",
    )


def define_churn_band(band: str, rfm: RfmSpec) -> Definition:
    """Return the Definition of the customers whose predicted churn band is ``band``."""
    return Definition(
        (Group((Condition("churn_band", "==", band),)),),
        rfm=rfm,
        description=f"Predicted churn band {band}",
    )


def _find_preset(name: str) -> presets.Preset | None:
    if name in presets.PRESETS:
        return presets.PRESETS[name]
    return next((p for p in presets.PRESETS.values() if p.name == name), None)


def find_named_segment(
    workspace: Path,
    dataset: str,
    name: str,
    scheme: schemes.Scheme,
    cuts: cut_points.Cuts | None = None,
    kind: str | None = None,
) -> NamedSegment:
    """Return the segment called ``name`` of ``kind``, or of the first kind in KINDS that has it.

    ``scheme`` and ``cuts`` (None = quantiles) score the RFM columns of every kind; ``scheme.key``
    must be resolvable by ``compiler.resolve_rfm_scheme`` unless the caller scores the view
    itself (``segment_export.export_to_file``'s ``scheme``). Raises UnknownSegmentError naming
    the kinds searched.
    """
    rfm = RfmSpec(scheme.key, cuts)
    groups = (*scheme.segments, schemes.PROSPECTS)
    searched = KINDS if kind is None else (kind,)
    for each in searched:
        if each == "saved" and name in segment_store.list_segments(workspace, dataset):
            saved = segment_store.load_segment(workspace, dataset, name)
            return NamedSegment(each, name, saved)
        if each == "rfm" and name in groups:
            return NamedSegment(each, name, define_rfm_segment(scheme, name, rfm))
        preset = _find_preset(name) if each == "preset" else None
        if preset is not None:
            return NamedSegment(each, preset.name, presets.preset_definition(preset, rfm=rfm))
        if each == "band" and name in CHURN_BANDS:
            return NamedSegment(each, name, define_churn_band(name, rfm))
    # A name no kind could hold (a newline, a control character) is refused as invalid.
    if "saved" in searched and not name.isprintable():
        segment_store.validate_segment_name(name)
    described = {
        "saved": ("a", "saved segment", f" in dataset '{dataset}'"),
        "rfm": ("an", "RFM group", f" of scheme {scheme.key}"),
        "preset": ("a", "behavioural preset", ""),
        "band": ("a", "churn band", ""),
    }
    (_, noun, where), *others = [described[k] for k in searched]
    nor = ""
    if others:
        listed = [f"{article} {n}{w}" for article, n, w in others]
        either = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"
        nor = f", nor {either} by that name"
    raise UnknownSegmentError(
        f"There is no {noun} called '{name}'{where}{nor} (RFM groups: {', '.join(groups)}; "
        f"churn bands: {', '.join(CHURN_BANDS)})."
    )
