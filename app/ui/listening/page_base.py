"""What every test-page widget shares: the session and player it drives, play/switch counting, key handling."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.core.listening.pages import PageView, Scale, Stimulus
from app.core.listening.session import Session
from app.ui.listening.player import PagePlayer
from app.ui.listening.rating_slider import RatingSlider

PLAYING_STYLE = "QPushButton { font-weight: bold; background: #cfe3ff; }"


class PageWidget(QWidget):
    """Base of the MUSHRA, ABX, AB and BS.1116 page widgets.

    Subclasses build their controls in :meth:`show_page` and map keys to stimuli in :meth:`key_for`. Every play
    goes through :meth:`hear`, which tells the session (``note_play``, and ``note_switch`` when another signal was
    playing), so play and switch counts are stored with the answers.

    Signals
    -------
    changed()
        The listener did something that may change what "Next" allows (played, rated, answered).
    """

    changed = Signal()

    def __init__(self, session: Session, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.player = player
        self.view: PageView | None = None
        self._play_buttons: dict[str, QPushButton] = {}
        player.state_changed.connect(self._mark_playing)

    def show_page(self, view: PageView) -> None:
        """Show ``view`` (a new page or trial); subclasses rebuild their controls."""
        self.view = view

    def key_for(self, text: str) -> str | None:
        """The stimulus key a typed character plays (None: not a play key)."""
        return None

    def hear(self, key: str) -> None:
        """Play stimulus ``key`` (switching sample-synchronously if another one plays) and count it."""
        switched = self.player.hear(key)
        self.session.note_play(key)
        if switched:
            self.session.note_switch()
        self.on_heard(key)
        self.changed.emit()

    def on_heard(self, key: str) -> None:
        """Hook for subclasses (MUSHRA enables the playing item's slider)."""

    def play_button(self, key: str, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"play_{key}")
        button.clicked.connect(lambda _checked=False, k=key: self.hear(k))
        self._play_buttons[key] = button
        return button

    def add_slider_column(self, row: QBoxLayout, stimulus: Stimulus, scale: Scale,
                          enabled: bool = True) -> RatingSlider:
        """A rating slider (showing the session's rating so far) above the stimulus's play button, added to ``row``.

        Moving it calls ``self._rate(key, value)``, which graded pages define.
        """
        column = QVBoxLayout()
        slider = RatingSlider(scale)
        slider.setObjectName(f"slider_{stimulus.key}")
        slider.set_rating(self.session.ratings.get(stimulus.key))
        slider.setEnabled(enabled)
        slider.rated.connect(lambda value, k=stimulus.key: self._rate(k, value))  # type: ignore[attr-defined]
        column.addWidget(slider, 1)
        column.addWidget(self.play_button(stimulus.key, stimulus.label), 0, Qt.AlignmentFlag.AlignHCenter)
        row.addLayout(column)
        return slider

    def _mark_playing(self) -> None:
        current = self.player.current_key
        for key, button in list(self._play_buttons.items()):
            try:
                button.setStyleSheet(PLAYING_STYLE if key == current else "")
            except RuntimeError:  # a button of a page already replaced
                self._play_buttons.pop(key, None)

    def clear_buttons(self) -> None:
        self._play_buttons.clear()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = self.key_for(event.text()) if event.text() else None
        if key is not None and self.view is not None:
            self.hear(key)
            event.accept()
            return
        super().keyPressEvent(event)
