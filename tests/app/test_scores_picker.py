"""The sidebar's "Scores per measure" picker: a 5-score scheme read on 3 scores."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.behaviour.compiler import resolve_rfm_scheme
from dashboard.rfm import schemes

REPO = Path(__file__).resolve().parents[2]


def test_three_scores_give_two_cut_sliders_per_measure(shop_env) -> None:
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120).run()
    app.selectbox(key="scores_shopify").set_value(3).run()
    assert not app.exception
    app.radio[0].set_value("Custom cut points").run()
    assert not app.exception
    assert not app.error
    # 3 scores: two cut points for each of R, F and M.
    assert len(app.slider) == 6
    table = app.dataframe[0].value
    assert int(table.customers.sum()) == shop_env.expected_customers()
    assert set(table.segment) <= {*schemes.PRESETS["shopify"].segments, schemes.PROSPECTS}


def test_a_rescaled_scheme_resolves_for_saved_segments(tmp_path) -> None:
    scheme = resolve_rfm_scheme(tmp_path, "shopify@3")
    assert scheme.n_scores == 3
    # Score 3 of 3 reads as 5 of 5: R3, F3, M3 is Shopify's R5 x FM5 cell.
    assert scheme.segment_of(3, 3, 3) == "Champions"
    # Score 1 of 3 reads as 1 of 5: R1 x FM1 is Dormant.
    assert scheme.segment_of(1, 1, 1) == "Dormant"
