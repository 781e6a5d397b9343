"""The test runner window: open a design or a bundle, ask who is listening, run (or resume) the session blind.

Every answer is committed by the session when the listener presses "Next", so closing the window (or a crash)
loses at most the page on screen; opening the same test with the same listener name resumes it.

Design warnings are for the researcher (a message box when the design is opened, closed when the session starts,
never on the listener's screens); MUSHRA anchors are rendered in a background job before the session starts (see
:mod:`app.ui.listening.anchor_preparation`).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QStackedWidget, QVBoxLayout, QWidget

from app.audio.engine import PlaybackEngine
from app.core.errors import EarBenchError
from app.core.listening.anchors import AnchorRenderer
from app.core.listening.bundle_cache import open_bundle_cached
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import load_design
from app.core.listening.session import Session
from app.core.listening.session_start import start_session
from app.core.listening.storage import Storage
from app.ui.listening.anchor_preparation import AnchorPreparation, DesignWarningsBox
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer
from app.ui.listening.runner_screens import DoneScreen, StartScreen
from app.ui.listening.session_screen import SessionScreen
from app.ui.notices import NoticeBar, NoticeLevel
from app.workers import JobRunner

DESIGN_FILTER = "Listening-test designs (*.yaml *.yml);;All files (*)"
BUNDLE_FILTER = "Test bundles (*.zip);;All files (*)"


class TestRunnerWindow(QMainWindow):
    """Runs one listener's session.

    Parameters
    ----------
    storage : Storage
        The ratings database (answers are committed there as they are given).
    engine : PlaybackEngine
        Plays the pages; a device-less engine still lets the listener choose signals (a notice says so).
    bundles_dir : Path
        Where opened bundles are unpacked (one folder per bundle, under the user data dir).
    anchor_dir, anchor_renderer :
        Passed to :func:`render_anchors` and :func:`start_session` (MUSHRA anchors; tests use a light renderer).
    jobs : JobRunner, optional
        Runs the anchor rendering off the GUI thread (default: a one-thread runner of this window's own).

    Signals
    -------
    session_started(object)
        The :class:`Session` that just started or resumed.
    session_finished(str)
        The test id of a session the listener completed.
    """

    __test__ = False
    session_started = Signal(object)
    session_finished = Signal(str)

    def __init__(
        self,
        storage: Storage,
        engine: PlaybackEngine,
        bundles_dir: Path,
        *,
        anchor_dir: Path | None = None,
        anchor_renderer: AnchorRenderer | None = None,
        jobs: JobRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("EarBench listening test")
        self.resize(1000, 640)
        self.storage, self.bundles_dir = storage, bundles_dir
        self.anchor_dir, self.anchor_renderer = anchor_dir, anchor_renderer
        self.warnings_dialog = DesignWarningsBox(self)
        self.anchors = AnchorPreparation(self, anchor_dir, anchor_renderer, jobs)
        self.anchors.ready.connect(self._anchors_ready)
        self.anchors.preparing_changed.connect(self._update_start)
        self.player = PagePlayer(engine, self)
        self.design: TestDesign | None = None
        self.notices = NoticeBar()
        self.screen = screen = SessionScreen(self.player)  # the listener's pages (its controls: also on the window)
        screen.error.connect(lambda text: self._notice("session", text, NoticeLevel.ERROR))
        screen.finished.connect(self._finished)
        screen.page_ready.connect(lambda: self.stack.setCurrentWidget(screen))
        self.header, self.transport, self.page_holder = screen.header, screen.transport, screen.page_holder
        self.blocking_label, self.next_button = screen.blocking_label, screen.next_button
        self.end_training_button = screen.end_training_button
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_start())
        self.stack.addWidget(self.screen)
        self.stack.addWidget(self._build_done())
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.notices)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.player.error.connect(lambda text: self._notice("audio", text, NoticeLevel.WARNING))
        if not engine.available:
            reason = engine.unavailable_reason or "No audio output device."
            self._notice("no-audio", f"{reason} Signals can be chosen but nothing will be heard.", NoticeLevel.WARNING)

    # ------------------------------------------------------------------ screens
    def _build_start(self) -> QWidget:
        page = StartScreen(self.anchors.busy_label, self.anchors.busy_bar)
        self.open_design_button, self.open_bundle_button = page.open_design_button, page.open_bundle_button
        self.test_label, self.listener_edit = page.test_label, page.listener_edit
        self.transducer_combo, self.start_button = page.transducer_combo, page.start_button
        self.busy_label, self.busy_bar = self.anchors.busy_label, self.anchors.busy_bar
        self.anchors.locked = [self.open_design_button, self.open_bundle_button, self.listener_edit,
                               self.transducer_combo]
        self.open_design_button.clicked.connect(self.choose_design)
        self.open_bundle_button.clicked.connect(self.choose_bundle)
        self.start_button.clicked.connect(lambda: self.start(self.listener_edit.text()))
        self.listener_edit.textChanged.connect(self._update_start)
        return page

    def _build_done(self) -> QWidget:
        page = self.done_page = DoneScreen()
        self.done_label = page.label
        page.close_button.clicked.connect(self.close)
        return page

    # ------------------------------------------------------------------ opening
    def choose_design(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open listening-test design", "", DESIGN_FILTER)
        if path:
            self.open_design(Path(path))

    def choose_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open test bundle", "", BUNDLE_FILTER)
        if path:
            self.open_bundle(Path(path))

    def open_design(self, path: Path, *, show_warnings: bool = True) -> TestDesign | None:
        """Load a design YAML (validated, never executed); errors show as a notice. ``show_warnings``: show the
        design warnings to the researcher in a message box (off when they have just seen them elsewhere)."""
        try:
            design = load_design(path)
        except EarBenchError as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        return self._use(design, show_warnings)

    def open_bundle(self, path: Path) -> TestDesign | None:
        """Check and unpack a bundle (.zip or folder) under ``bundles_dir``, then load its design."""
        try:
            design = open_bundle_cached(path, self.bundles_dir)
        except (EarBenchError, OSError) as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        return self._use(design)

    def _use(self, design: TestDesign, show_warnings: bool = True) -> TestDesign:
        self.notices.clear_notice("open")
        self.design = design
        text = f"<b>{html.escape(design.name)}</b> ({design.type.upper()}, {len(design.items)} items)"
        self.test_label.setText(text)
        self.warnings_dialog.design_opened(design, show=show_warnings)
        self._update_start()
        return design

    def _update_start(self, *_args: object) -> None:
        ready = self.design is not None and bool(self.listener_edit.text().strip())
        self.start_button.setEnabled(ready and not self.preparing)

    @property
    def preparing(self) -> bool:
        """Whether the MUSHRA anchors are being rendered before the session starts."""
        return self.anchors.preparing

    @property
    def design_warnings(self) -> list[str]:
        """The opened design's warnings, for the researcher only."""
        return self.warnings_dialog.warnings

    @property
    def warnings_box(self) -> QMessageBox | None:
        """The message box that showed the design warnings, if any."""
        return self.warnings_dialog.box

    @property
    def error_box(self) -> QMessageBox | None:
        """The dialog that said why the MUSHRA anchors could not be rendered, if any."""
        return self.anchors.error_box

    @property
    def session(self) -> Session | None:
        """The session started or resumed last (None before the first one)."""
        return self.screen.session

    @property
    def page_widget(self) -> PageWidget | None:
        """The widget showing the session's pages (None before the first session)."""
        return self.screen.page_widget

    # ------------------------------------------------------------------ running
    def start(self, listener: str) -> Session | None:
        """Start ``listener``'s session of the opened test, or resume their unfinished one.

        A MUSHRA test first renders its anchors in a background job and returns None; the session starts when the
        job is done (``session_started`` is emitted then), or an error dialog says why it could not.
        """
        listener = listener.strip()
        design = self.design
        if design is None or not listener or self.preparing:
            return None
        if design.type != "mushra":
            return self._begin(listener)
        self.anchors.prepare(design, listener)
        return None

    def _anchors_ready(self, design: TestDesign, listener: str) -> None:
        if design is self.design:
            self._begin(listener)  # the anchors are cached now: start_session only finds them

    def _begin(self, listener: str) -> Session | None:
        assert self.design is not None
        try:
            session = start_session(self.storage, self.design, listener, transducer=self.transducer_combo.currentText(),
                                    anchor_dir=self.anchor_dir, anchor_renderer=self.anchor_renderer)
        except EarBenchError as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        self.setWindowTitle(f"EarBench listening test: {self.design.name}")
        self.warnings_dialog.close()  # researcher-only: gone before the listener's first page
        self.screen.begin(session)
        self.session_started.emit(session)
        return session

    def next_page(self) -> None:
        """Commit the page (or trial) and show the next one."""
        self.screen.next_page()

    def end_training(self) -> None:
        """Leave the training pages and show the first test page."""
        self.screen.end_training()

    def _finished(self, session: Session) -> None:
        done, _ = session.progress
        self.done_label.setText(f"Thank you, {html.escape(session.record.listener)}: all {done} answers are saved.")
        self.stack.setCurrentWidget(self.done_page)
        self.session_finished.emit(session.design.id)

    # ------------------------------------------------------------------ misc
    def _notice(self, key: str, text: str, level: NoticeLevel) -> None:
        self.notices.show_notice(key, text, level, dismissible=True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Play keys work wherever the focus is (e.g. on "Next")."""
        if self.stack.currentWidget() is self.screen and self.screen.play_key(event.text()):
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.anchors.shutdown()
        self.player.shutdown()
        super().closeEvent(event)
