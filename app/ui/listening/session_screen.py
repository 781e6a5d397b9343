"""The listener's test screen inside the runner window: header, transport, the page widget, "End training" and "Next".

Every answer is committed by the session when the listener presses "Next"; the screen only shows the session's
current page and says (``finished``) when there is none left.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.errors import EarBenchError
from app.core.listening.session import Session, SessionError
from app.ui.listening.abx_page import AbPage, AbxPage
from app.ui.listening.bs1116_page import Bs1116Page
from app.ui.listening.mushra_page import MushraPage
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer
from app.ui.listening.transport import TransportBar

PAGE_TYPES: dict[str, type[PageWidget]] = {"mushra": MushraPage, "abx": AbxPage, "ab": AbPage, "bs1116": Bs1116Page}


class SessionScreen(QWidget):
    """Shows a running session's pages, one at a time, and moves through them.

    Parameters
    ----------
    player : PagePlayer
        Plays the pages' signals (shared with the window that owns this screen).

    Signals
    -------
    page_ready()
        A page is set up: the owner shows this screen now, before the page takes the keyboard focus.
    error(str)
        A page could not be committed: the reason, HTML-escaped (the page stays on screen).
    finished(object)
        The :class:`Session` has no page left (all answers are saved); playback was stopped.
    """

    page_ready = Signal()
    error = Signal(str)
    finished = Signal(object)

    def __init__(self, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.session: Session | None = None
        self.page_widget: PageWidget | None = None
        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setObjectName("page_header")
        self.transport = TransportBar(player)
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

    def begin(self, session: Session) -> None:
        """Drive ``session`` (just started or resumed) with a new page widget of its design's type; show its page."""
        self.session = session
        if self.page_widget is not None:
            self.page_holder.removeWidget(self.page_widget)
            self.page_widget.deleteLater()
        self.page_widget = PAGE_TYPES[session.design.type](session, self.player)
        self.page_widget.changed.connect(self._update_state)
        self.page_holder.addWidget(self.page_widget)
        self._show_current()

    def next_page(self) -> None:
        """Commit the page (or trial) and show the next one."""
        if self.session is None or (not self.session.can_advance() and self.session.phase != "training"):
            return
        try:
            self.session.advance()
        except (SessionError, EarBenchError) as exc:
            self.error.emit(html.escape(str(exc)))
            return
        self._show_current()

    def end_training(self) -> None:
        """Leave the training pages and show the first test page."""
        if self.session is not None:
            self.session.finish_training()
            self._show_current()

    def play_key(self, text: str) -> bool:
        """Play the signal a typed character stands for on the current page; whether it was a play key."""
        page = self.page_widget
        key = page.key_for(text) if page is not None and text else None
        if key is None or page is None:
            return False
        page.hear(key)
        return True

    def _show_current(self) -> None:
        session, page = self.session, self.page_widget
        assert session is not None and page is not None
        view = session.page
        if view is None:
            self.player.stop()
            self.finished.emit(session)
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
        self.page_ready.emit()
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
        # session.warnings (excerpt length, ratings piling up at 80-100) are for the researcher: the design
        # warnings were shown when the design was opened, and the results view and report flag the pile-up.
