"""Logging for the app: a rotating log file that error dialogs point at, and warnings on stderr.

Qt-free, so the same set-up serves the window, ``--smoke-test`` and tests.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

#: Rotate at 1 MiB, keep 3 old files: a few days of heavy use, never an unbounded file.
MAX_LOG_BYTES = 1 << 20
LOG_BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def setup_logging(log_path: Path, level: int = logging.INFO) -> list[logging.Handler]:
    """Log ``level`` and above to a rotating file and warnings to stderr.

    Returns the handlers added to the root logger (pass them to :func:`remove_handlers` on exit).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("earbench: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(file_handler)
    root.addHandler(console)
    return [file_handler, console]


def remove_handlers(handlers: list[logging.Handler]) -> None:
    """Detach and close handlers added by :func:`setup_logging` (flushes the log file)."""
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
