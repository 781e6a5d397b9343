"""The test runner window: open a design or a bundle, ask who is listening, run (or resume) the session blind.

Every answer is committed by the session when the listener presses "Next", so closing the window (or a crash)
loses at most the page on screen; opening the same test with the same listener name resumes it.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.audio.engine import PlaybackEngine
from app.core.errors import EarBenchError
from app.core.listening.anchors import AnchorRenderer
from app.core.listening.bundle_cache import open_bundle_cached
from app.core.listening.design import TestDesign, design_warnings, load_design
from app.core.listening.session import Session, SessionError, start_session
from app.core.listening.storage import Storage
from app.ui.listening.abx_page import AbPage, AbxPage
from app.ui.listening.bs1116_page import Bs1116Page
from app.ui.listening.mushra_page import MushraPage
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer
from app.ui.listening.transport import TransportBar
from app.ui.notices import NoticeBar, NoticeLevel

PAGE_TYPES: dict[str, type[PageWidget]] = {"mushra": MushraPage, "abx": AbxPage, "ab": AbPage, "bs1116": Bs1116Page}
TRANSDUCERS = ("headphones", "loudspeakers")
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
        Passed to :func:`start_session` (MUSHRA anchors; tests use a light renderer).

    Signals
    -------
    session_finished(str)
        The test id of a session the listener completed.
    """

    __test__ = False
    session_finished = Signal(str)

    def __init__(
        self,
        storage: Storage,
        engine: PlaybackEngine,
        bundles_dir: Path,
        *,
        anchor_dir: Path | None = None,
        anchor_renderer: AnchorRenderer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("EarBench listening test")
        self.resize(1000, 640)
        self.storage, self.bundles_dir = storage, bundles_dir
        self.anchor_dir, self.anchor_renderer = anchor_dir, anchor_renderer
        self.player = PagePlayer(engine, self)
        self.design: TestDesign | None = None
        self.session: Session | None = None
        self.page_widget: PageWidget | None = None
        self.notices = NoticeBar()
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_start())
        self.stack.addWidget(self._build_test())
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
        page = QWidget()
        form = QFormLayout(page)
        buttons = QHBoxLayout()
        self.open_design_button = QPushButton("Open design…")
        self.open_bundle_button = QPushButton("Open bundle…")
        buttons.addWidget(self.open_design_button)
        buttons.addWidget(self.open_bundle_button)
        self.test_label = QLabel("No test opened")
        self.test_label.setWordWrap(True)
        self.listener_edit = QLineEdit()
        self.listener_edit.setPlaceholderText("your name or listener ID")
        self.transducer_combo = QComboBox()
        self.transducer_combo.addItems(TRANSDUCERS)
        self.start_button = QPushButton("Start / resume")
        self.start_button.setEnabled(False)
        form.addRow(buttons)
        form.addRow("Test:", self.test_label)
        form.addRow("Listener:", self.listener_edit)
        form.addRow("Listening with:", self.transducer_combo)
        form.addRow(self.start_button)
        self.open_design_button.clicked.connect(self.choose_design)
        self.open_bundle_button.clicked.connect(self.choose_bundle)
        self.start_button.clicked.connect(lambda: self.start(self.listener_edit.text()))
        self.listener_edit.textChanged.connect(self._update_start)
        return page

    def _build_test(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.header = QLabel()
        self.header.setObjectName("page_header")
        self.transport = TransportBar(self.player)
        self.page_holder = QVBoxLayout()
        self.blocking_label = QLabel()
        self.blocking_label.setObjectName("blocking_reasons")
        self.blocking_label.setWordWrap(True)
        self.end_training_button = QPushButton("End training")
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("next")
        bottom = QHBoxLayout()
        bottom.addWidget(self.blocking_label, 1)
        bottom.addWidget(self.end_training_button)
        bottom.addWidget(self.next_button)
        layout.addWidget(self.header)
        layout.addWidget(self.transport)
        layout.addLayout(self.page_holder, 1)
        layout.addLayout(bottom)
        self.next_button.clicked.connect(self.next_page)
        self.end_training_button.clicked.connect(self.end_training)
        self.transport.play_requested.connect(self._replay)
        return page

    def _build_done(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.done_label = QLabel()
        self.done_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        layout.addWidget(self.done_label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignCenter)
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

    def open_design(self, path: Path) -> TestDesign | None:
        """Load a design YAML (validated, never executed); errors show as a notice."""
        try:
            design = load_design(path)
        except EarBenchError as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        return self._use(design)

    def open_bundle(self, path: Path) -> TestDesign | None:
        """Check and unpack a bundle (.zip or folder) under ``bundles_dir``, then load its design."""
        try:
            design = open_bundle_cached(path, self.bundles_dir)
        except (EarBenchError, OSError) as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        return self._use(design)

    def _use(self, design: TestDesign) -> TestDesign:
        self.notices.clear_notice("open")
        self.design = design
        text = f"<b>{html.escape(design.name)}</b> ({design.type.upper()}, {len(design.items)} items)"
        self.test_label.setText(text)
        for n, warning in enumerate(design_warnings(design)):
            self._notice(f"design-{n}", html.escape(warning), NoticeLevel.WARNING)
        self._update_start()
        return design

    def _update_start(self) -> None:
        self.start_button.setEnabled(self.design is not None and bool(self.listener_edit.text().strip()))

    # ------------------------------------------------------------------ running
    def start(self, listener: str) -> Session | None:
        """Start ``listener``'s session of the opened test, or resume their unfinished one."""
        listener = listener.strip()
        if self.design is None or not listener:
            return None
        try:
            self.session = start_session(
                self.storage, self.design, listener, anchor_dir=self.anchor_dir, anchor_renderer=self.anchor_renderer,
                transducer=self.transducer_combo.currentText(),
            )
        except EarBenchError as exc:
            self._notice("open", html.escape(str(exc)), NoticeLevel.ERROR)
            return None
        if self.page_widget is not None:
            self.page_holder.removeWidget(self.page_widget)
            self.page_widget.deleteLater()
        self.page_widget = PAGE_TYPES[self.design.type](self.session, self.player)
        self.page_widget.changed.connect(self._update_state)
        self.page_holder.addWidget(self.page_widget)
        self.setWindowTitle(f"EarBench listening test: {self.design.name}")
        self._show_current()
        return self.session

    def next_page(self) -> None:
        """Commit the page (or trial) and show the next one."""
        if self.session is None or (not self.session.can_advance() and self.session.phase != "training"):
            return
        try:
            self.session.advance()
        except (SessionError, EarBenchError) as exc:
            self._notice("session", html.escape(str(exc)), NoticeLevel.ERROR)
            return
        self._show_current()

    def end_training(self) -> None:
        if self.session is not None:
            self.session.finish_training()
            self._show_current()

    def _show_current(self) -> None:
        session, page = self.session, self.page_widget
        assert session is not None and page is not None
        view = session.page
        if view is None:
            self.player.stop()
            done, _ = session.progress
            self.done_label.setText(f"Thank you, {html.escape(session.record.listener)}: all {done} answers are saved.")
            self.stack.setCurrentIndex(2)
            self.session_finished.emit(session.design.id)
            return
        keys = ([view.reference.key] if view.reference else []) + [s.key for s in view.stimuli]
        paths = ([view.reference.path] if view.reference else []) + [s.path for s in view.stimuli]
        self.player.load(keys, paths)
        self.transport.page_loaded()
        page.show_page(view)
        done, total = session.progress
        phase = "<b>Training</b>: condition names are shown and ratings are not kept. " if view.training else ""
        where = f"page {view.page + 1} of {view.n_pages}" if view.training else f"answered {done} of {total}"
        self.header.setText(f"{phase}{html.escape(session.design.name)}: {where}")
        self.end_training_button.setVisible(view.training)
        self.stack.setCurrentIndex(1)
        page.setFocus()
        self._update_state()

    def _replay(self) -> None:
        page = self.page_widget
        if page is None or page.view is None:
            return
        view = page.view
        key = self.player.current_key or (view.reference.key if view.reference else view.stimuli[0].key)
        page.hear(key)

    def _update_state(self) -> None:
        session = self.session
        if session is None or session.finished:
            return
        reasons = session.blocking_reasons()
        self.next_button.setEnabled(session.can_advance() or session.phase == "training")
        self.blocking_label.setText("To go on: " + ", ".join(reasons) if reasons else "")
        for key in [k for k in ("warning-0", "warning-1", "warning-2") if self.notices.has_notice(k)]:
            self.notices.clear_notice(key)
        for n, warning in enumerate(session.warnings[:3]):
            self._notice(f"warning-{n}", html.escape(warning), NoticeLevel.WARNING)

    # ------------------------------------------------------------------ misc
    def _notice(self, key: str, text: str, level: NoticeLevel) -> None:
        self.notices.show_notice(key, text, level, dismissible=True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Play keys work wherever the focus is (e.g. on "Next")."""
        page = self.page_widget
        key = page.key_for(event.text()) if page is not None and event.text() else None
        if key is not None and page is not None and self.stack.currentIndex() == 1:
            page.hear(key)
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.player.shutdown()
        super().closeEvent(event)
