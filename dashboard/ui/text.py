"""Text from data shown safely where Streamlit renders Markdown (docs/architecture.md §security).

Customer ids, column headers, file names, imported scheme names and rules, error messages that
quote them: any of them may hold Markdown. Rendered as such, ``![p](http://host/x.png)`` makes
the browser fetch an outside address and ``[Click](http://evil.example)`` shows a live link.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character CommonMark lets a backslash escape, which covers links,
# images, emphasis, code, headings, lists, tables, HTML and Streamlit's own ``$`` (LaTeX) and
# ``:color[...]`` / ``:emoji:`` directives.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'=^%@/])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
# GitHub-flavoured Markdown turns bare ``http://...`` and ``www....`` into links after escapes
# are resolved, so a backslash cannot stop it; an invisible word joiner inside the pattern does.
_BARE_LINK = re.compile(r":(?=//)|(?i:\bwww)(?=\.)")
WORD_JOINER = "\u2060"


def escape_markdown(text: object) -> str:
    """Return ``text`` as a string that Markdown shows literally, on one line.

    Line breaks become spaces: a break could start a heading, list or block quote. An invisible
    word joiner follows the ``:`` of each ``://`` and a bare ``www``, so no link is made of them.
    """
    flat = _LINE_BREAKS.sub(" ", str(text))
    unlinked = _BARE_LINK.sub(lambda match: match.group(0) + WORD_JOINER, flat)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", unlinked)
