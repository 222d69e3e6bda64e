"""A definition's RFM cut points must be on its scheme's score scale (issue 14, item 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.behaviour import definitions, segment_store
from dashboard.behaviour.definitions import DefinitionError

CUTS_3 = {"recency": [30, 90], "frequency": [2, 3], "monetary": [50, 100]}
CUTS_5 = {
    "recency": [30, 90, 180, 365],
    "frequency": [2, 3, 5, 10],
    "monetary": [50, 100, 250, 500],
}


def document(scheme: str, cuts: dict[str, list[int]]) -> str:
    condition = {"feature": "orders", "operator": ">=", "value": 2}
    return json.dumps(
        {"groups": [{"conditions": [condition]}], "rfm": {"scheme": scheme, "cuts": cuts}}
    )


@pytest.mark.parametrize(
    ("scheme", "cuts", "sentence"),
    [
        # shopify and classic score 1-5: 3-score cuts (2 per measure) do not fit.
        ("shopify", CUTS_3, "The scheme 'shopify' uses 5 scores; give 4 cut points per measure."),
        ("classic", CUTS_3, "The scheme 'classic' uses 5 scores; give 4 cut points per measure."),
        # klaviyo scores 1-3.
        ("klaviyo", CUTS_5, "The scheme 'klaviyo' uses 3 scores; give 2 cut points per measure."),
        # shopify read on 3 scores, and a saved scheme read on 4.
        (
            "shopify@3",
            CUTS_5,
            "The scheme 'shopify@3' uses 3 scores; give 2 cut points per measure.",
        ),
        (
            "custom:mine@4",
            CUTS_3,
            "The scheme 'custom:mine@4' uses 4 scores; give 3 cut points per measure.",
        ),
    ],
)
def test_cuts_of_another_scale_are_refused(
    scheme: str, cuts: dict[str, list[int]], sentence: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        definitions.definition_from_json(document(scheme, cuts))
    assert str(refused.value) == sentence


@pytest.mark.parametrize(
    ("scheme", "cuts", "n_scores"),
    [("shopify", CUTS_5, 5), ("klaviyo", CUTS_3, 3), ("shopify@3", CUTS_3, 3), ("rf10", CUTS_5, 5)],
)
def test_cuts_on_the_scheme_scale_are_kept(
    scheme: str, cuts: dict[str, list[int]], n_scores: int
) -> None:
    definition = definitions.definition_from_json(document(scheme, cuts))
    assert definition.rfm.cuts is not None and definition.rfm.cuts.n_scores == n_scores
    assert definition.rfm.cuts.recency == tuple(float(v) for v in cuts["recency"])


def test_a_saved_segment_with_cuts_of_another_scale_is_refused(workspace: Path) -> None:
    definition = definitions.Definition(
        (definitions.Group((definitions.Condition("orders", ">=", 2),)),),
        rfm=definitions.RfmSpec(
            "shopify", definitions.cut_points.Cuts((30, 90), (2, 3), (50, 100))
        ),
    )
    with pytest.raises(DefinitionError, match="uses 5 scores; give 4 cut points"):
        segment_store.save_segment(workspace, "shop", "vip", definition)
    assert segment_store.list_segments(workspace, "shop") == []


def test_the_scale_a_scheme_key_shows() -> None:
    assert definitions.find_scheme_scale("shopify") == 5
    assert definitions.find_scheme_scale("klaviyo") == 3
    assert definitions.find_scheme_scale("klaviyo@5") == 5
    assert definitions.find_scheme_scale("custom:mine@3") == 3
    # A saved scheme on its own scale is known only in the workspace (compiler.feature_view).
    assert definitions.find_scheme_scale("custom:mine") is None
