"""escape_markdown: text from data reads literally wherever Streamlit renders Markdown."""

from __future__ import annotations

import re

import pytest

from dashboard.ui.text import WORD_JOINER, escape_markdown

HOSTILE = [
    "![p](http://127.0.0.1:9/x.png)",
    "[Click](http://evil.example)",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code` ~~s~~ $x^2$ :red[alert] :smile:",
    "# heading\n- item\n> quote",
    "www.evil.example and http://evil.example",
]
UNESCAPED_SPECIAL = re.compile(r"(?<!\\)[\[\]()!<>*_`~$#:]")


@pytest.mark.parametrize("text", HOSTILE)
def test_every_markdown_character_is_escaped(text: str) -> None:
    shown = escape_markdown(text)
    assert not UNESCAPED_SPECIAL.search(shown.replace("\\\\", ""))
    # Removing the escapes gives the text back, line breaks as spaces.
    read = re.sub(r"\\(.)", r"\1", shown)
    assert read.replace(WORD_JOINER, "") == re.sub(r"[\r\n]+", " ", text)
    assert "://" not in read and "www." not in read.lower()


def test_plain_text_and_numbers_read_the_same() -> None:
    assert escape_markdown("Alice Smith") == "Alice Smith"
    assert escape_markdown(1234) == "1234"
    assert escape_markdown("12.50") == "12\\.50"
