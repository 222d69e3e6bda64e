"""The playbook (docs/playbook.md): what to do with each segment the product shows, as data.

One TOML file per scheme under ``data/``, reviewed like code; ``entries`` loads and checks them.
"""

from dashboard.playbook.entries import (
    PlaybookEntry,
    PlaybookError,
    find_entry,
    list_playbooks,
    load_playbook,
    parse_playbook,
)

__all__ = [
    "PlaybookEntry",
    "PlaybookError",
    "find_entry",
    "list_playbooks",
    "load_playbook",
    "parse_playbook",
]
