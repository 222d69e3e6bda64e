"""Uploaded files leave the disk (issue #14 item 5): a new upload replaces the last one, a
discarded upload is deleted, a session's folder goes with the session, and folders a stopped
server left are removed on start once a day old."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from dashboard.ui import uploads


def test_a_new_upload_replaces_the_last_and_discard_deletes_it(tmp_path: Path) -> None:
    folder = uploads.UploadFolder(tmp_path)
    assert folder.path.parent == tmp_path
    assert folder.path.name.startswith("segments-upload-")
    first = folder.save("orders.csv", b"a,b\n1,2\n")
    assert first.read_bytes() == b"a,b\n1,2\n"
    second = folder.save("../../customers.csv", b"c\n3\n")
    assert second == folder.path / "customers.csv"
    assert sorted(folder.path.iterdir()) == [second]
    folder.discard()
    assert list(folder.path.iterdir()) == []
    assert folder.path.is_dir()


def test_the_folder_goes_when_the_session_lets_go_of_it(tmp_path: Path) -> None:
    folder = uploads.UploadFolder(tmp_path)
    folder.save("orders.csv", b"a\n1\n")
    path = folder.path
    del folder
    gc.collect()
    assert not path.exists()
    explicit = uploads.UploadFolder(tmp_path)
    explicit.remove()
    assert list(tmp_path.iterdir()) == []


def test_folders_older_than_a_day_are_removed_on_start(tmp_path: Path) -> None:
    old = uploads.UploadFolder(tmp_path)
    old.save("orders.csv", b"a\n1\n")
    recent = uploads.UploadFolder(tmp_path)
    recent.save("orders.csv", b"a\n1\n")
    other = tmp_path / "someone-else"
    other.mkdir()
    day_and_a_minute_ago = time.time() - 24 * 3600 - 60
    os.utime(old.path, (day_and_a_minute_ago, day_and_a_minute_ago))
    os.utime(other, (day_and_a_minute_ago, day_and_a_minute_ago))

    uploads.clean_stale_uploads_at_start(tmp_path)

    assert not old.path.exists()
    assert recent.path.is_dir() and other.is_dir()
    # Only the first call of a process cleans: later runs of the app do not scan again.
    os.utime(recent.path, (day_and_a_minute_ago, day_and_a_minute_ago))
    uploads.clean_stale_uploads_at_start(tmp_path)
    assert recent.path.is_dir()
    assert uploads.clean_stale_uploads(tmp_path) == [recent.path]
