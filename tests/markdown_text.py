"""What the analyst reads of Markdown the app renders: AppTest gives an element's Markdown
source, in which text from data is escaped (dashboard/ui/text.escape_markdown)."""

from __future__ import annotations

import re

from dashboard.ui.text import WORD_JOINER


def read_markdown(source: str) -> str:
    """Return ``source`` as it reads on the page: backslash escapes resolved, word joiners gone."""
    return re.sub(r"\\(.)", r"\1", source).replace(WORD_JOINER, "")
