"""Error reporting: a dialog that points at the log file, and the excepthook that shows it (friture-style)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

logger = logging.getLogger(__name__)

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def make_error_box(
    parent: QWidget | None, title: str, message: str, details: str | None = None, log_path: Path | None = None
) -> QMessageBox:
    """Build (but do not show) a critical message box; ``details`` go in the expandable section."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Close, parent)
    if log_path is not None:
        box.setInformativeText(f"Details were written to the log file:\n{log_path}")
    if details:
        box.setDetailedText(details)
    return box


class ExceptionHook:
    """A ``sys.excepthook`` that logs the error and shows one dialog at a time on the GUI thread.

    Parameters
    ----------
    log_path : Path
        The log file the dialog points at.
    parent : QWidget, optional
        Parent for the dialog.
    """

    def __init__(self, log_path: Path, parent: QWidget | None = None) -> None:
        self.log_path = log_path
        self.parent = parent
        self.box: QMessageBox | None = None
        self.count = 0

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.count += 1
        logger.critical("Unhandled exception", exc_info=(exc_type, exc, tb))
        app = QApplication.instance()
        if app is None or threading.current_thread() is not threading.main_thread():
            return
        if self.box is not None and self.box.isVisible():
            return  # one dialog at a time; the rest are in the log
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self.box = make_error_box(
            self.parent, "EarBench: unexpected error", f"An unexpected error occurred:\n{exc}", details, self.log_path
        )
        self.box.open()


def install_excepthook(log_path: Path, parent: QWidget | None = None) -> tuple[ExceptionHook, ExceptHook]:
    """Install an :class:`ExceptionHook`; returns it and the previous hook (to restore on exit)."""
    previous = sys.excepthook
    hook = ExceptionHook(log_path, parent)
    sys.excepthook = hook
    return hook, previous
