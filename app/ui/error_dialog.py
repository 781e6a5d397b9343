"""Error reporting: a dialog that points at the log file, and the excepthook that shows it (friture-style)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
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


class _MainThreadRelay(QObject):
    """Carries an exception raised in another thread to the GUI thread, where dialogs may be shown."""

    raised = Signal(object)


class ExceptionHook:
    """A ``sys.excepthook`` (and ``threading.excepthook``) that logs the error and shows one dialog at a time.

    Exceptions from other threads are logged at once and their dialog is shown on the GUI thread.

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
        self.previous_thread_hook: Callable[[threading.ExceptHookArgs], object] | None = None
        self._relay = _MainThreadRelay()  # created on the GUI thread, so queued slots run there
        self._relay.raised.connect(lambda info: self._show(*info), Qt.ConnectionType.QueuedConnection)

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.count += 1
        logger.critical("Unhandled exception", exc_info=(exc_type, exc, tb))
        if QApplication.instance() is None:
            return
        if threading.current_thread() is not threading.main_thread():
            self._relay.raised.emit((exc_type, exc, tb))
            return
        self._show(exc_type, exc, tb)

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: treat an exception that ended a thread like an uncaught one."""
        if args.exc_type is SystemExit:
            return
        exc = args.exc_value if args.exc_value is not None else args.exc_type()
        self(args.exc_type, exc, args.exc_traceback)

    def _show(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if self.box is not None and self.box.isVisible():
            return  # one dialog at a time; the rest are in the log
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self.box = make_error_box(
            self.parent, "EarBench: unexpected error", f"An unexpected error occurred:\n{exc}", details, self.log_path
        )
        self.box.open()


def install_excepthook(log_path: Path, parent: QWidget | None = None) -> tuple[ExceptionHook, ExceptHook]:
    """Install an :class:`ExceptionHook` as ``sys.excepthook`` and ``threading.excepthook``.

    Returns it and the previous ``sys.excepthook``; restore both with :func:`restore_excepthooks` on exit.
    """
    previous = sys.excepthook
    hook = ExceptionHook(log_path, parent)
    hook.previous_thread_hook = threading.excepthook
    sys.excepthook = hook
    threading.excepthook = hook.thread_hook
    return hook, previous


def restore_excepthooks(hook: ExceptionHook, previous: ExceptHook) -> None:
    """Put back the hooks :func:`install_excepthook` replaced."""
    sys.excepthook = previous
    if hook.previous_thread_hook is not None:
        threading.excepthook = hook.previous_thread_hook
