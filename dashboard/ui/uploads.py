"""Files uploaded in the browser, on disk for as short a time as possible (README "Security and
privacy").

Each browser session writes its upload to its own private folder in the system's temporary
folder, ``segments-upload-*`` (readable by this user only). The file is deleted once it is loaded
or refused, when another upload replaces it, and with its folder when the session ends. A server
stopped abruptly cannot do the last step: the app removes such folders, once a day old, when it
starts.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from pathlib import Path

UPLOAD_PREFIX = "segments-upload-"
STALE_AFTER_SECONDS = 24 * 3600
_started: set[Path] = set()


class UploadFolder:
    """One session's upload folder, removed with what it holds when this object is garbage
    collected (the session ended) or when the process exits."""

    def __init__(self, parent: Path | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=parent))
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def save(self, name: str, data: bytes | memoryview) -> Path:
        """Write an upload as the folder's only file and return its path.

        ``name`` is the browser's file name, kept to its base name (the path is ours); the
        previous upload, if any, is deleted first.
        """
        self.path.mkdir(mode=0o700, exist_ok=True)
        target = self.path / Path(name).name
        self.discard()
        target.write_bytes(data)
        return target

    def discard(self) -> None:
        """Delete the upload this folder holds, if any (the folder stays for the next one)."""
        for leftover in self.path.glob("*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the folder and its upload now."""
        self._remove()


def clean_stale_uploads(parent: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the upload folders in ``parent`` (default: the system's temporary folder) last
    changed more than a day ago: sessions of a server that stopped without cleaning up. Return
    the folders removed. A live session's folder changes with each upload and is recreated if
    it goes."""
    base = Path(parent or tempfile.gettempdir())
    cutoff = (time.time() if now is None else now) - STALE_AFTER_SECONDS
    removed = []
    for folder in base.glob(f"{UPLOAD_PREFIX}*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:
            continue
    return removed


def clean_stale_uploads_at_start(parent: Path | None = None) -> None:
    """Run ``clean_stale_uploads`` the first time this process asks (the app's start)."""
    base = Path(parent or tempfile.gettempdir())
    if base not in _started:
        _started.add(base)
        clean_stale_uploads(base)
