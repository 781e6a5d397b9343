"""A BS.1116 page (double-blind triple-stimulus with hidden reference): Reference, A and B; A and B graded on the
five-grade impairment scale 1.0-5.0 with one decimal. One of A/B is the reference, so one should get 5.0."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.listening.pages import REFERENCE_KEY, PageView
from app.core.listening.session import Session
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer
from app.ui.listening.rating_slider import RatingSlider, ScaleLabels


class Bs1116Page(PageWidget):
    """Keys R, A, B play; ``sliders`` maps "A"/"B" to their grade sliders."""

    def __init__(self, session: Session, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(session, player, parent)
        self.sliders: dict[str, RatingSlider] = {}
        self._layout = QVBoxLayout(self)
        self.counter = QLabel()
        hint = QLabel("One of A and B is the reference: grade the impairment of each against the reference "
                      "(5.0 = imperceptible). Keys R, A, B play.")
        hint.setWordWrap(True)
        self._layout.addWidget(self.counter)
        self._layout.addWidget(hint)
        self._row: QWidget | None = None

    def show_page(self, view: PageView) -> None:
        super().show_page(view)
        assert view.scale is not None
        done, total = self.session.progress
        self.counter.setText(f"Trial {done + 1} of {total}")
        if self._row is not None:
            self._layout.removeWidget(self._row)
            self._row.deleteLater()
        self.clear_buttons()
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.addWidget(ScaleLabels(view.scale))
        ref_column = QVBoxLayout()
        ref_column.addStretch(1)
        ref_column.addWidget(self.play_button(REFERENCE_KEY, "Reference"))
        layout.addLayout(ref_column)
        self.sliders = {}
        for stimulus in view.stimuli:
            self.sliders[stimulus.key] = self.add_slider_column(layout, stimulus, view.scale, enabled=True)
        layout.addStretch(1)
        self._row = row
        self._layout.addWidget(row, 1)

    def key_for(self, text: str) -> str | None:
        return {"r": REFERENCE_KEY, "a": "A", "b": "B"}.get(text.lower())

    def _rate(self, key: str, value: float) -> None:
        self.session.rate(key, value)
        self.changed.emit()
