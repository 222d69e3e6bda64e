"""Exclusive locks that hold across the threads of this process and across processes (the app
and any number of command-line runs over one workspace).

A lock is a file locked with ``flock``. The kernel drops the lock when its process ends, even by
``kill -9``, so a lock nobody holds also proves that no live process owns what it guards: that is
how the workspace tells a dead load's leftovers from a running load's files. The last holder
deletes the lock file before it lets go, so nothing is left once no one holds it; whoever was
waiting then finds that the file it locked is no longer the one at the path, and locks the new
one instead. POSIX only (Linux, macOS).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Holding:
    """This process's hold on one lock file: a thread lock, how deep it is nested, the fd."""

    guard: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    fd: int | None = None


_holdings: dict[Path, _Holding] = {}
_holdings_guard = threading.Lock()


def _holding_for(path: Path) -> _Holding:
    with _holdings_guard:
        return _holdings.setdefault(path, _Holding())


def _lock_file(path: Path, blocking: bool) -> int | None:
    """Return an open fd of ``path`` locked exclusively, or None when another holder has it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _is_current(fd, path):
            return fd
        # The holder we waited for deleted this file as it let go: lock the one at the path now.
        os.close(fd)


def _is_current(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path``."""
    try:
        at_path = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (at_path.st_dev, at_path.st_ino)


@contextmanager
def _held(holding: _Holding, path: Path, fd: int | None) -> Iterator[None]:
    """Count one more hold of ``holding`` (whose thread lock the caller has) for the block."""
    if holding.depth == 0:
        holding.fd = fd
    holding.depth += 1
    try:
        yield
    finally:
        holding.depth -= 1
        if holding.depth == 0 and holding.fd is not None:
            try:
                path.unlink(missing_ok=True)
            finally:
                # Closing the last fd of the file releases the flock.
                os.close(holding.fd)
                holding.fd = None


@contextmanager
def hold(path: Path) -> Iterator[None]:
    """Hold the lock file ``path`` for the block, waiting for other holders first.

    Nested holds in one thread are free (the outermost one locks and unlocks).
    """
    holding = _holding_for(path)
    with holding.guard:
        fd = _lock_file(path, blocking=True) if holding.depth == 0 else None
        with _held(holding, path, fd):
            yield


@contextmanager
def try_hold(path: Path) -> Iterator[bool]:
    """Hold the lock file ``path`` for the block if nobody else does; yield whether it is held.

    Never waits: another thread or process holding it gives False at once.
    """
    holding = _holding_for(path)
    if not holding.guard.acquire(blocking=False):
        yield False
        return
    try:
        if holding.depth:
            # This thread holds it already: it is in use, by us.
            yield False
            return
        fd = _lock_file(path, blocking=False)
        if fd is None:
            yield False
            return
        with _held(holding, path, fd):
            yield True
    finally:
        holding.guard.release()
