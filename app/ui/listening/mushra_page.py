"""A MUSHRA page (BS.1534-3): the open reference, one vertical 0-100 slider per blind signal, number keys.

Rules enforced here and in the session: sliders start unset; only the slider of the signal being heard can move
(§5.4, Att. 2: controls of signals not being heard are disabled); "Next" needs every signal played and rated
(the runner asks ``session.can_advance``). In training the signals carry their condition names.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.listening.pages import REFERENCE_KEY, PageView
from app.core.listening.session import Session
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer
from app.ui.listening.rating_slider import RatingSlider, ScaleLabels

#: Keys that play the blind signals in order (at most 12 per page, BS.1534-3 §5.3).
SIGNAL_KEYS = "1234567890-="
REFERENCE_SHORTCUT = "r"


class MushraPage(PageWidget):
    """Sliders and play buttons of one MUSHRA page; ``sliders`` maps stimulus keys to :class:`RatingSlider`."""

    def __init__(self, session: Session, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(session, player, parent)
        self.sliders: dict[str, RatingSlider] = {}
        self._layout = QVBoxLayout(self)
        self.hint = QLabel(
            "Play each signal (buttons or keys 1-9, 0; R for the reference) and rate it against the reference. "
            "Only the slider of the signal you hear can move."
        )
        self.hint.setWordWrap(True)
        self._layout.addWidget(self.hint)
        self._row: QWidget | None = None

    def show_page(self, view: PageView) -> None:
        super().show_page(view)
        assert view.scale is not None and view.reference is not None
        if self._row is not None:
            self._layout.removeWidget(self._row)
            self._row.deleteLater()
        self.clear_buttons()
        self.sliders = {}
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.addWidget(ScaleLabels(view.scale))
        ref_column = QVBoxLayout()
        ref_column.addStretch(1)
        ref_column.addWidget(self.play_button(REFERENCE_KEY, "Reference"))
        layout.addLayout(ref_column)
        for stimulus in view.stimuli:
            self.sliders[stimulus.key] = self.add_slider_column(layout, stimulus, view.scale, enabled=False)
        layout.addStretch(1)
        self._row = row
        self._layout.addWidget(row, 1)

    def key_for(self, text: str) -> str | None:
        if self.view is None:
            return None
        if text.lower() == REFERENCE_SHORTCUT:
            return REFERENCE_KEY
        index = SIGNAL_KEYS.find(text)
        return self.view.stimuli[index].key if 0 <= index < len(self.view.stimuli) else None

    def on_heard(self, key: str) -> None:
        for k, slider in self.sliders.items():
            slider.setEnabled(k == key)  # the reference enables none

    def _rate(self, key: str, value: float) -> None:
        self.session.rate(key, value)
        self.changed.emit()
