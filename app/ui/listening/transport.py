"""Transport of a test page: play/stop, back to start, loop region (≥ 0.5 s, faded edges) and the position.

There is deliberately no volume control: the level is locked while a test runs (BS.1534-3 §8: no level change
within an item); the listener sets a comfortable level on the system before starting.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from app.core.audition import MIN_LOOP_S
from app.ui.listening.player import PagePlayer


class TransportBar(QWidget):
    """Buttons bound to a :class:`PagePlayer`; ``play_requested`` asks the page to (re)play its current signal,
    so the play is counted by the page like any other."""

    play_requested = Signal()

    def __init__(self, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.play_button = QPushButton("Play")
        self.play_button.setShortcut(QKeySequence("Space"))
        self.play_button.setToolTip("Play or stop (Space)")
        # A style icon, not a Unicode symbol: the symbol is missing from common fonts (DejaVu draws a box).
        self.rewind_button = QPushButton(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Start")
        self.rewind_button.setToolTip("Back to the loop start (the beginning when the loop is off)")
        self.loop_check = QCheckBox("Loop")
        self.loop_start = self._spin()
        self.loop_end = self._spin()
        self.position = QLabel("0.00 s")
        self.level = QLabel("Level locked")
        self.level.setToolTip("The level cannot change during a test (ITU-R BS.1534-3 §8)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.rewind_button, self.position, self.loop_check, QLabel("from"),
                       self.loop_start, QLabel("to"), self.loop_end):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.level)
        self.play_button.clicked.connect(self._toggle)
        self.rewind_button.clicked.connect(player.rewind)
        self.loop_check.toggled.connect(self._apply_loop)
        self.loop_start.editingFinished.connect(self._apply_loop)
        self.loop_end.editingFinished.connect(self._apply_loop)
        player.state_changed.connect(self._refresh)

    @staticmethod
    def _spin() -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setDecimals(2)
        spin.setSuffix(" s")
        spin.setSingleStep(0.1)
        return spin

    def page_loaded(self) -> None:
        """Reset the loop controls to the new page's length (loop on over the whole excerpt)."""
        duration_s = self.player.audio.duration_s if self.player.audio else 0.0
        for spin in (self.loop_start, self.loop_end):
            spin.blockSignals(True)
            spin.setRange(0.0, duration_s)
            spin.blockSignals(False)
        self.loop_start.setValue(0.0)
        self.loop_end.setValue(duration_s)
        can_loop = duration_s >= MIN_LOOP_S
        self.loop_check.setEnabled(can_loop)
        self.loop_check.blockSignals(True)
        self.loop_check.setChecked(can_loop)
        self.loop_check.blockSignals(False)
        self._apply_loop()

    def _apply_loop(self) -> None:
        if not self.loop_check.isChecked():
            self.player.clear_loop()
            return
        loop = self.player.set_loop_s(self.loop_start.value(), self.loop_end.value())
        if loop is not None:
            self.loop_start.setValue(loop[0])
            self.loop_end.setValue(loop[1])

    def _toggle(self) -> None:
        if self.player.is_playing:
            self.player.stop()
        else:
            self.play_requested.emit()

    def _refresh(self) -> None:
        self.play_button.setText("Stop" if self.player.is_playing else "Play")
        self.position.setText(f"{self.player.position_s:.2f} s")
