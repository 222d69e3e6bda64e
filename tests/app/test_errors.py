"""A bug in a page shows a short internal-error message with a log reference, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.rfm import analysis

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def test_a_bug_shows_a_reference_not_a_traceback(
    shop_env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a programming error")

    monkeypatch.setattr(analysis, "segment_summary", broken)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception
    shown = [e.value for e in app.error]
    assert len(shown) == 1 and shown[0].startswith("Internal error (reference "), shown
    assert "ZeroDivisionError" not in shown[0] and "Traceback" not in shown[0]
    reference = shown[0].split("reference ")[1][:8]
    logged = [r for r in caplog.records if f"Internal error {reference}" in r.getMessage()]
    assert logged and logged[0].exc_info[0] is ZeroDivisionError
