"""What the test runner does for the researcher before a session starts: design warnings and MUSHRA anchors.

Design warnings (excerpt length, number of items, ABX round length) are for the researcher: they are shown in a
non-modal message box when the design is opened, and the box is closed before the listener's first page. A MUSHRA
test first renders its anchors (3.5 and 7 kHz low-pass of each reference) in a background job: a busy bar shows and
the start controls are locked meanwhile, and an error dialog says why when the rendering fails.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QWidget

from app.core.errors import EarBenchError
from app.core.listening.anchors import AnchorRenderer, render_anchors
from app.core.listening.design import TestDesign, design_warnings
from app.workers import JobContext, JobRunner

ANCHOR_CHANNEL = "listening-anchors"


def message_box(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str, details: str) -> QMessageBox:
    """A non-modal message box with an OK button (not shown yet); ``details`` is its informative text."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(details)
    box.setWindowModality(Qt.WindowModality.NonModal)
    return box


def close_box(box: QMessageBox | None) -> None:
    """Close ``box`` if it is on screen."""
    if box is not None and box.isVisible():
        box.close()


class DesignWarningsBox:
    """The researcher-only warnings of the opened design, in a message box that never reaches the listener.

    Attributes
    ----------
    warnings : list[str]
        The opened design's warnings (an unreadable excerpt gives one warning with the error's text).
    box : QMessageBox or None
        The last box shown, if any.
    """

    def __init__(self, parent: QWidget) -> None:
        self.parent_widget = parent
        self.warnings: list[str] = []
        self.box: QMessageBox | None = None

    def design_opened(self, design: TestDesign, *, show: bool = True) -> None:
        """Check ``design`` and, if ``show`` and there are warnings, show them (off when the researcher has just
        seen them elsewhere)."""
        try:
            self.warnings = design_warnings(design)
        except EarBenchError as exc:  # an unreadable excerpt: the session start will report it
            self.warnings = [str(exc)]
        close_box(self.box)
        if show and self.warnings:
            self.box = message_box(
                self.parent_widget, QMessageBox.Icon.Warning, "Design warnings (for the researcher)",
                "Check these before the listener starts; justify them in the report (BS.1534-3 §10.2).",
                "\n\n".join(self.warnings))
            self.box.show()  # not modal: the researcher reads and closes it; the session start closes it

    def close(self) -> None:
        """Close the box (researcher-only: gone before the listener's first page)."""
        close_box(self.box)


class AnchorPreparation(QObject):
    """Renders a MUSHRA design's anchors off the GUI thread before its session starts.

    Parameters
    ----------
    parent : QWidget
        The runner window: parent of the error dialog (and of the job runner when ``jobs`` is None).
    anchor_dir, anchor_renderer :
        Passed to :func:`render_anchors` (None: the defaults; tests use a light renderer).
    jobs : JobRunner, optional
        Runs the rendering (default: a one-thread runner of its own, shut down by :meth:`shutdown`).

    Signals
    -------
    ready(object, str)
        The anchors of the design (a :class:`TestDesign`) are cached: the listener's (``str``) session can start.
    preparing_changed(bool)
        The rendering started (True) or ended, whether it succeeded or not (False).
    """

    ready = Signal(object, str)
    preparing_changed = Signal(bool)

    def __init__(
        self,
        parent: QWidget,
        anchor_dir: Path | None = None,
        anchor_renderer: AnchorRenderer | None = None,
        jobs: JobRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.anchor_dir, self.anchor_renderer = anchor_dir, anchor_renderer
        self._own_jobs = jobs is None
        self.jobs = jobs if jobs is not None else JobRunner(parent, max_threads=1)
        self.error_box: QMessageBox | None = None
        self.locked: list[QWidget] = []  # the controls disabled while the anchors render
        self.busy_label = QLabel("Preparing the MUSHRA anchors (3.5 and 7 kHz low-pass of each reference)…")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # no fraction to show: a busy indicator
        self.busy_label.hide()
        self.busy_bar.hide()

    @property
    def preparing(self) -> bool:
        """Whether anchors are being rendered."""
        return self.jobs.is_busy(ANCHOR_CHANNEL)

    def prepare(self, design: TestDesign, listener: str) -> None:
        """Render ``design``'s anchors in a background job; ``ready(design, listener)`` is emitted when they are
        cached, or an error dialog says why they could not be rendered."""
        anchor_dir, renderer = self.anchor_dir, self.anchor_renderer

        def job(context: JobContext) -> object:
            return render_anchors(design, anchor_dir, renderer)

        self.jobs.submit(ANCHOR_CHANNEL, job, lambda _anchors: self._done(design, listener), self._failed)
        self._set_preparing(True)

    def shutdown(self) -> None:
        """Drop the rendering (the window is closing); stop the job runner if it is this object's own."""
        self.jobs.cancel(ANCHOR_CHANNEL)
        if self._own_jobs:
            self.jobs.shutdown(timeout_ms=2000)

    def _set_preparing(self, preparing: bool) -> None:
        for widget in (self.busy_label, self.busy_bar):
            widget.setVisible(preparing)
        for widget in self.locked:
            widget.setEnabled(not preparing)
        self.preparing_changed.emit(preparing)

    def _done(self, design: TestDesign, listener: str) -> None:
        self._set_preparing(False)
        self.ready.emit(design, listener)

    def _failed(self, exc: Exception) -> None:
        self._set_preparing(False)
        close_box(self.error_box)
        self.error_box = message_box(self.parent_widget, QMessageBox.Icon.Critical, "The test cannot start",
                                     "The MUSHRA anchors could not be rendered.", str(exc))
        self.error_box.open()
