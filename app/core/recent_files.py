"""The recent-files list: most recent first, no duplicates, at most ten, files that vanished dropped (Qt-free)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

MAX_RECENT_FILES = 10


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def add_recent(recent: Iterable[str], path: str | os.PathLike[str], limit: int = MAX_RECENT_FILES) -> list[str]:
    """Put ``path`` (made absolute) first, dropping an older copy of it and anything beyond ``limit``."""
    new = str(Path(path).expanduser().absolute())
    kept = [p for p in recent if _key(p) != _key(new)]
    return [new, *kept][:limit]


def prune_missing(recent: Iterable[str], exists: Callable[[str], bool] = os.path.isfile) -> list[str]:
    """The entries that still name a file, in order, without duplicates."""
    seen: set[str] = set()
    kept = []
    for path in recent:
        if path and _key(path) not in seen and exists(path):
            seen.add(_key(path))
            kept.append(path)
    return kept
