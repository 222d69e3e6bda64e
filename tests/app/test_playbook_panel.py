"""The playbook panels (issue 17 #1): the Segments page shows the entry of the segment picked for
download, the Behaviour page the entry of the chosen preset."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard import playbook

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def panel_text(app: AppTest, title: str) -> str:
    """All the Markdown inside the expander titled ``title``."""
    panels = [e for e in app.expander if e.label == title]
    assert len(panels) == 1, [e.label for e in app.expander]
    return "\n".join(m.value for m in panels[0].markdown)


def test_selecting_champions_on_the_segments_page_shows_its_playbook(shop_env) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert_clean(app)
    assert not [e for e in app.expander if e.label.startswith("Playbook")]
    [picker] = [s for s in app.selectbox if s.label == "Segment"]
    picker.set_value("Champions").run()
    assert_clean(app)
    text = panel_text(app, "Playbook: Champions")
    entry = playbook.load_playbook("shopify")["Champions"]
    assert "Keep your best recent buyers spending with you" in text
    assert "Give them first access to new products" in text
    assert "Share of Champions still Champions next quarter" in text
    assert entry.caution is not None and "Check the order count" in text


def test_choosing_a_preset_on_the_behaviour_page_shows_its_playbook(shop_env) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page("pages/behaviour.py").run()
    app.selectbox(key="bh_preset").set_value("one_time").run()
    assert_clean(app)
    text = panel_text(app, "Playbook: One\\-time buyers")
    assert "Turn one\\-time buyers into repeat customers" in text
    assert "Second\\-order rate within 60 days" in text
