"""The playbook (issue 17 #1): an entry for every segment the product shows, every entry complete,
and a custom scheme's group finding the entry of the closest preset.

The coverage tests iterate over the real scheme and preset definitions, so adding a segment or a
preset without its playbook entry fails here.
"""

from __future__ import annotations

import pytest

from dashboard import playbook
from dashboard.behaviour import presets
from dashboard.playbook import entries
from dashboard.predict.overview import CHURN_BANDS
from dashboard.rfm import scheme_io, schemes

GOOD_ENTRY = """
[[entry]]
segment = "Champions"
goal = "Keep them."
actions = ["Give early access.", "Ship free."]
channel = "E-mail"
offer = "No discount"
kpi = "Retention"
"""


@pytest.mark.parametrize("key", list(schemes.PRESETS))
def test_every_group_of_every_preset_scheme_has_an_entry(key: str) -> None:
    scheme = schemes.PRESETS[key]
    for segment in [*scheme.segments, schemes.PROSPECTS]:
        entry = playbook.find_entry("rfm", key, segment)
        assert entry is not None, f"{key}: no playbook entry for '{segment}'"
    # The scheme's own file, not a fallback, covers each of its groups exactly.
    assert list(playbook.load_playbook(key)) == list(scheme.segments)


def test_the_scheme_files_hold_the_issues_counts() -> None:
    sizes = {key: len(playbook.load_playbook(key)) for key in schemes.PRESETS}
    # Shopify's eleventh group is Prospects, whose entry every scheme shares (prospects.toml).
    assert sizes == {"shopify": 10, "classic": 11, "rf10": 10, "klaviyo": 6}
    assert list(playbook.load_playbook("prospects")) == [schemes.PROSPECTS]


def test_every_behavioural_preset_has_an_entry() -> None:
    missing = [key for key in presets.PRESETS if playbook.find_entry("preset", None, key) is None]
    assert missing == []
    assert set(playbook.load_playbook("behaviour")) == set(presets.PRESETS)


def test_every_churn_band_and_the_prospects_have_an_entry() -> None:
    assert list(playbook.load_playbook("churn_bands")) == list(CHURN_BANDS)
    assert [playbook.find_entry("band", None, band).segment for band in CHURN_BANDS] == [
        "Low",
        "Medium",
        "High",
    ]
    assert playbook.find_entry("rfm", "klaviyo", schemes.PROSPECTS).segment == "Prospects"


@pytest.mark.parametrize("key", playbook.list_playbooks())
def test_every_shipped_entry_is_complete(key: str) -> None:
    for name, entry in playbook.load_playbook(key).items():
        assert entry.segment == name
        for field in (entry.goal, entry.channel, entry.offer, entry.kpi, *entry.actions):
            assert field.strip() == field and field, (key, name)
        assert 2 <= len(entry.actions) <= 5, (key, name)
        assert entry.caution is None or entry.caution.strip()
        assert entry.goal.endswith("."), (key, name)


def test_the_shipped_files_are_exactly_the_schemes_presets_and_bands() -> None:
    assert playbook.list_playbooks() == sorted(
        [*schemes.PRESETS, "behaviour", "prospects", "churn_bands"]
    )


def test_a_valid_file_parses_to_entries() -> None:
    parsed = playbook.parse_playbook(GOOD_ENTRY + 'caution = "Check frequency."\n', "t.toml")
    assert parsed == {
        "Champions": playbook.PlaybookEntry(
            "Champions",
            "Keep them.",
            ("Give early access.", "Ship free."),
            "E-mail",
            "No discount",
            "Retention",
            "Check frequency.",
        )
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_ENTRY.replace('kpi = "Retention"\n', ""), "lacks the fields: kpi"),
        (GOOD_ENTRY.replace('"E-mail"', '"  "'), "'channel' must be a non-empty text"),
        (GOOD_ENTRY.replace('["Give early access.", "Ship free."]', '["Only one."]'), "2 to 5"),
        (GOOD_ENTRY.replace('"Ship free."]', '"a", "b", "c", "d", "e"]'), "2 to 5"),
        (GOOD_ENTRY.replace('"Ship free."', '""'), "'actions' must be a non-empty text"),
        (GOOD_ENTRY + 'caution = ""\n', "'caution' must be a non-empty text"),
        (GOOD_ENTRY + 'price = "9"\n', "unknown fields: price"),
        (GOOD_ENTRY + GOOD_ENTRY, "two entries for 'Champions'"),
        ("", "only [[entry]] tables"),
        ("[[entry]\n", "not valid TOML"),
    ],
)
def test_an_incomplete_file_is_refused_with_a_clear_sentence(text: str, message: str) -> None:
    with pytest.raises(playbook.PlaybookError, match=message.replace("[", r"\[")):
        playbook.parse_playbook(text, "t.toml")


def test_an_unknown_playbook_is_a_user_error() -> None:
    with pytest.raises(playbook.PlaybookError, match="No playbook 'nope'"):
        playbook.load_playbook("nope")


def test_a_rescaled_preset_reads_its_own_file() -> None:
    rescaled = scheme_io.rescale_scheme(schemes.PRESETS["classic"], 3)
    assert rescaled.key == "classic@3"
    entry = playbook.find_entry("rfm", rescaled.key, "Champions", rescaled.segments)
    assert entry is playbook.load_playbook("classic")["Champions"]


def test_a_custom_scheme_falls_back_to_the_closest_preset() -> None:
    # Two of three names are Classic's (case differs), one is RF grid's and Shopify's: Classic wins.
    names = ["champions", "need attention", "Hibernating", "Big fans"]
    assert entries.rank_presets(names)[0] == "classic"
    entry = playbook.find_entry("rfm", "custom:mine", "champions", names)
    assert entry is playbook.load_playbook("classic")["Champions"]
    assert (
        playbook.find_entry("rfm", "custom:mine", "Need attention", names)
        is (playbook.load_playbook("classic")["Need Attention"])
    )
    # A name no preset has gets no entry.
    assert playbook.find_entry("rfm", "custom:mine", "Big fans", names) is None


def test_a_custom_scheme_built_on_shopify_names_takes_shopifys_entries() -> None:
    names = ["Champions", "Active", "Almost lost", "Dormant"]
    assert entries.rank_presets(names)[0] == "shopify"
    entry = playbook.find_entry("rfm", "imported", "Champions", names)
    assert entry is playbook.load_playbook("shopify")["Champions"]


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(playbook.PlaybookError, match="Unknown playbook kind 'segment'"):
        playbook.find_entry("segment", None, "Champions")  # type: ignore[arg-type]
