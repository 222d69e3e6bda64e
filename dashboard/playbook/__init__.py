"""The playbook (docs/playbook.md): what to do with each segment the product shows, as data.

One TOML file per scheme under ``data/``, reviewed like code; ``entries`` loads and checks them.
``store`` keeps the analyst's edits in the workspace, per dataset and scheme.
"""

from dashboard.playbook.entries import (
    PlaybookEntry,
    PlaybookError,
    find_entry,
    list_playbooks,
    load_playbook,
    parse_playbook,
)
from dashboard.playbook.store import (
    build_entry,
    describe_for_stamp,
    describe_named_segment,
    export_scheme_json,
    find_base_entry,
    find_saved_entry,
    import_scheme_json,
    read_saved_entries,
    reset_entry,
    save_custom_scheme,
    save_entry,
)

__all__ = [
    "PlaybookEntry",
    "PlaybookError",
    "build_entry",
    "describe_for_stamp",
    "describe_named_segment",
    "export_scheme_json",
    "find_base_entry",
    "find_entry",
    "find_saved_entry",
    "import_scheme_json",
    "list_playbooks",
    "load_playbook",
    "parse_playbook",
    "read_saved_entries",
    "reset_entry",
    "save_custom_scheme",
    "save_entry",
]
