"""Issue 17 item 2: a predicted churn band of a store whose models cannot be fitted is refused
with the fit's own sentence, from the CLI (exit 2, no file) and the Behaviour page's download
(st.error), instead of an empty file with row count 0.

The store: three customers who each bought once (2024-02-01, 2024-05-01, 2024-09-01), all of
whom accepted e-mail. Nobody bought on two different days, so no purchase model can be fitted
and every predicted feature is missing with the same sentence.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import cli
from dashboard.behaviour import definitions, feature_base, named_segments, segment_export
from dashboard.behaviour.definitions import Condition, Definition, Group, RfmSpec
from dashboard.predict.model_errors import ModelFitError
from dashboard.ui.text import escape_markdown
from dashboard.workspace import store

DATASET = "one-timers"
PURCHASES = {"a@x.com": "2024-02-01", "b@x.com": "2024-05-01", "c@x.com": "2024-09-01"}
# The calibration cut-off of the fit is two thirds into the 2024-02-01 .. 2024-09-01 history.
ONCE = Definition((Group((Condition("orders", "==", 1),)),))
REASON_START = "Nobody bought on two different days up to 2024-09-01"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = store.resolve_workspace(tmp_path_factory.mktemp("band-export") / "workspace")
    with store.open_for_write(folder, DATASET) as con:
        con.begin()
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount,"
            " net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR',"
            " false, 1)",
            [
                (f"{c}-1", c, dt.datetime.fromisoformat(f"{day} 12:00"), Decimal(50), Decimal(50))
                for c, day in PURCHASES.items()
            ],
        )
        con.executemany(
            "INSERT INTO customers (customer_id, email, accepts_marketing, ingest_id)"
            " VALUES (?, ?, true, 2)",
            [(c, c) for c in PURCHASES],
        )
        con.commit()
    return folder


@pytest.fixture(scope="module")
def reason(workspace: Path) -> str:
    """Why the feature base of the store has no predictions (the ModelFitError's sentence)."""
    base = feature_base.load_feature_base(workspace, DATASET)
    base.close()
    return base.missing["churn_band"]


def test_require_predictions_raises_the_fit_sentence_only_for_predicted_features(
    reason: str,
) -> None:
    assert reason.startswith(REASON_START)
    band = named_segments.define_churn_band("High", RfmSpec())
    with pytest.raises(ModelFitError) as raised:
        segment_export.require_predictions(band, {"churn_band": reason})
    assert str(raised.value) == reason
    segment_export.require_predictions(ONCE, {"churn_band": reason})
    segment_export.require_predictions(band, {})


@pytest.mark.parametrize("fmt", ["klaviyo", "csv"])
def test_the_cli_refuses_a_band_it_cannot_fit_with_exit_2(
    workspace: Path, reason: str, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"high.{fmt}"
    args = ["export", "--workspace", str(workspace), "--dataset", DATASET, "--segment", "High"]
    status = cli.main([*args, "--kind", "band", "--format", fmt, "--out", str(out)])
    assert status == 2
    assert capsys.readouterr().err.strip() == f"error: {reason}"
    assert not out.exists()
    assert not segment_export.stamp_path(out).exists()


def test_the_cli_still_exports_a_segment_without_predicted_features(
    workspace: Path, tmp_path: Path
) -> None:
    # Everyone bought once and accepted e-mail: the Klaviyo list holds all three.
    definition = tmp_path / "once.json"
    definition.write_text(definitions.definition_to_json(ONCE), encoding="utf-8")
    out = tmp_path / "once.csv"
    args = ["export", "--workspace", str(workspace), "--dataset", DATASET]
    args += ["--definition", str(definition), "--format", "klaviyo", "--out", str(out)]
    assert cli.main(args) == 0
    listing = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(listing.Email) == sorted(PURCHASES)


def download_band(workspace_dir: str, dataset: str) -> None:
    """The Behaviour page's download section for churn band High of ``dataset``."""
    import types
    from pathlib import Path

    from dashboard import ui
    from dashboard.behaviour import compiler, feature_base, named_segments
    from dashboard.behaviour.definitions import RfmSpec
    from dashboard.rfm import schemes
    from dashboard.ui.behaviour import segment_downloads

    with ui.friendly_errors():
        base = feature_base.load_feature_base(Path(workspace_dir), dataset)
        spec = RfmSpec()
        view = compiler.feature_view(base.table, spec, Path(workspace_dir))
        selection = types.SimpleNamespace(
            dataset=dataset, scheme=schemes.PRESETS[schemes.DEFAULT_SCHEME]
        )
        definition = named_segments.define_churn_band("High", spec)
        segment_downloads.offer_downloads(selection, base, view, definition, "High", key="band")


def test_the_behaviour_download_shows_the_fit_sentence(
    workspace: Path, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    app = AppTest.from_function(download_band, args=(str(workspace), DATASET), default_timeout=120)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [e.value for e in app.error] == [escape_markdown(reason)]
    assert app.get("download_button") == []
