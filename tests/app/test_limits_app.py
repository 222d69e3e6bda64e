"""The app under the memory limit and the query timeout: one sentence, and the next run works
(issue 14, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.rfm import cut_points
from dashboard.workspace import limits

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def shown_errors(app: AppTest) -> list[str]:
    """The error boxes' texts without the Markdown escapes of ui.text.escape_markdown."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in app.error]


def test_out_of_memory_shows_a_sentence_and_the_app_works_once_the_limit_is_lifted(
    shop_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(limits.MEMORY_LIMIT_ENV, "1MB")
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception
    errors = shown_errors(app)
    assert errors, "the limit was not reached"
    start = "The analysis needed more memory than the 1MB it may use; narrow the window"
    assert all(e.startswith(start) for e in errors), errors

    monkeypatch.delenv(limits.MEMORY_LIMIT_ENV)
    app.run()
    assert not app.exception
    assert shown_errors(app) == []
    assert app.dataframe, "the Segments page shows its table again"


def test_a_runaway_query_is_stopped_and_the_app_works_on_the_next_run(
    shop_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(limits.QUERY_TIMEOUT_ENV, "0.5")
    with monkeypatch.context() as patched:
        # The per-customer measures become a search through orders x orders x orders of the shop:
        # far more than half a second of work, as a runaway query on a big store would be.
        def runaway(orders, *args, **kwargs):
            ids = orders.select("order_id")
            crossed = ids.cross_join(ids.view(), rname="{name}_2").cross_join(
                ids.view(), rname="{name}_3"
            )
            joined = crossed.order_id + crossed.order_id_2 + crossed.order_id_3
            found = crossed.filter(joined == "never")
            return found.aggregate(rows=found.count())

        patched.setattr(cut_points, "build_customer_measures", runaway)
        app = AppTest.from_file(str(APP), default_timeout=120).run()
        assert not app.exception
        errors = shown_errors(app)
        assert errors and all(
            e.startswith("The analysis ran longer than its limit of 0.5 seconds and was stopped")
            for e in errors
        ), errors

    app.run()
    assert not app.exception
    assert shown_errors(app) == []
    assert app.dataframe, "the Segments page shows its table again"
