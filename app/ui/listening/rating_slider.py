"""A vertical rating slider that starts unset (no value, greyed, no handle) until the listener touches it.

Never pre-filled (BS.1534-3 Att. 1; spec §6): webMUSHRA starts at 100, BeaqleJS at 0 and DAC at 50, each biasing
the ratings. The slider works in whole steps of the scale's precision (MUSHRA 0-100 by 1, BS.1116 1.0-5.0 by 0.1).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSlider, QVBoxLayout, QWidget

from app.core.listening.pages import Scale

_UNSET_STYLE = "QSlider::handle:vertical { background: transparent; border: none; height: 0px; }"
UNSET_TEXT = "\u2013"  # an en dash: no value yet


class RatingSlider(QWidget):
    """One listener rating on ``scale``; emits ``rated(value)`` when the listener moves it.

    ``rating`` is None until the first touch. Programmatic moves while disabled are ignored, so only an enabled
    slider (the playing item's, on a MUSHRA page) can change a rating.
    """

    rated = Signal(float)

    def __init__(self, scale: Scale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        self._factor = 10**scale.decimals
        self.rating: float | None = None
        self._quiet = False
        self.slider = QSlider(Qt.Orientation.Vertical)
        self.slider.setRange(round(scale.minimum * self._factor), round(scale.maximum * self._factor))
        self.slider.setSingleStep(1)
        self.slider.setPageStep(max(1, round((scale.maximum - scale.minimum) * self._factor / 20)))
        self.slider.setTickPosition(QSlider.TickPosition.TicksBothSides)
        self.slider.setTickInterval(max(1, round((scale.maximum - scale.minimum) * self._factor / 5)))
        self.slider.setMinimumHeight(260)  # BS.1534-3 §5.4: sliders typically ≥ 10 cm
        self.value_label = QLabel(UNSET_TEXT)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.value_label)
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderPressed.connect(lambda: self._on_value(self.slider.value()))
        self.set_rating(None)

    @property
    def is_set(self) -> bool:
        return self.rating is not None

    def set_rating(self, value: float | None) -> None:
        """Show ``value`` (None: unset) without emitting ``rated`` (e.g. restoring a page)."""
        self._quiet = True
        try:
            self.rating = None if value is None else self.scale.check(value)
            self.slider.setValue(round((value if value is not None else self.scale.minimum) * self._factor))
        finally:
            self._quiet = False
        self._show()

    def _on_value(self, position: int) -> None:
        if self._quiet or not self.isEnabled():
            if not self._quiet:  # a disabled slider was moved from code: put it back
                self.set_rating(self.rating)
            return
        self.rating = self.scale.check(round(position / self._factor, self.scale.decimals))
        self._show()
        self.rated.emit(self.rating)

    def _show(self) -> None:
        unset = self.rating is None
        self.slider.setStyleSheet(_UNSET_STYLE if unset else "")
        self.slider.setProperty("unset", unset)
        self.value_label.setText(UNSET_TEXT if unset else f"{self.rating:.{self.scale.decimals}f}")
        self.setToolTip("Not rated yet" if unset else "")


class ScaleLabels(QWidget):
    """The scale's band labels from top (best) to bottom, beside a row of sliders."""

    def __init__(self, scale: Scale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 24)
        for _, label in reversed(scale.labels):
            text = QLabel(label)
            text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            layout.addWidget(text, 1)
