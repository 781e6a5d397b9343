"""Peak-envelope waveforms of the original and the selected condition, with a play head and the loop region.

Click to seek; drag the loop region's edges (or its body) to change the loop, shift-drag to draw a new one (the same
gesture as on the spectrograms, :mod:`app.ui.loop_region`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.waveform import PeakEnvelope
from app.ui.loop_region import LoopRegionItem, LoopViewBox

_ORIGINAL_BRUSH = (120, 120, 120, 150)
_RECONSTRUCTION_PEN = (30, 110, 220, 220)
_PLAYHEAD_PEN = (220, 60, 40)
_LOOP_BRUSH = (255, 190, 40, 60)


class WaveformView(QWidget):
    """Draws envelopes (see ``app.core.waveform``) against time in seconds.

    Signals
    -------
    seek_requested(float)
        The user clicked at this time in seconds.
    loop_edited(float, float)
        The user dragged or drew the loop region to (start_s, end_s), not yet widened to the 0.5 s minimum.
    """

    seek_requested = Signal(float)
    loop_edited = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w", viewBox=LoopViewBox())
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setYRange(-1.0, 1.0, padding=0.02)
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        brush = pg.mkBrush(_ORIGINAL_BRUSH)
        pen = pg.mkPen(_ORIGINAL_BRUSH)
        self._original = (
            pg.PlotDataItem(pen=pen, fillLevel=0.0, brush=brush),
            pg.PlotDataItem(pen=pen, fillLevel=0.0, brush=brush),
        )
        recon_pen = pg.mkPen(_RECONSTRUCTION_PEN, width=1)
        self._reconstruction = (pg.PlotDataItem(pen=recon_pen), pg.PlotDataItem(pen=recon_pen))
        for item in (*self._original, *self._reconstruction):
            self.plot.addItem(item)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen(_PLAYHEAD_PEN, width=2))
        self.plot.addItem(self.playhead)
        self.loop_region = LoopRegionItem(brush=pg.mkBrush(_LOOP_BRUSH), movable=True)
        self.loop_region.setVisible(False)
        self.loop_region.setZValue(-10)
        self.plot.addItem(self.loop_region)
        self.loop_region.sigRegionChangeFinished.connect(self._on_loop_dragged)
        self._setting_loop = False
        self.plot.getPlotItem().getViewBox().span_drawn.connect(self._on_span_drawn)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self._duration_s = 0.0

    def set_original(self, envelope: PeakEnvelope | None, duration_s: float = 0.0) -> None:
        """Show the original's envelope (None clears everything)."""
        self._duration_s = duration_s
        self._set_pair(self._original, envelope)
        self.set_reconstruction(None)
        self.set_loop(None)
        self.set_playhead_s(0.0)
        if envelope is not None:
            self.plot.setXRange(0.0, max(duration_s, 1e-3), padding=0.0)

    def set_reconstruction(self, envelope: PeakEnvelope | None) -> None:
        """Overlay the reconstruction's envelope outline (None removes it)."""
        self._set_pair(self._reconstruction, envelope)

    def set_loop(self, region: tuple[float, float] | None) -> None:
        """Show the loop region (start_s, end_s), or hide it (None)."""
        self._setting_loop = True
        try:
            if region is not None:
                self.loop_region.setBounds((0.0, self._duration_s))
                self.loop_region.setRegion(region)
            self.loop_region.setVisible(region is not None)
        finally:
            self._setting_loop = False

    @property
    def loop(self) -> tuple[float, float] | None:
        """The region shown, or None."""
        if not self.loop_region.isVisible():
            return None
        start, end = self.loop_region.getRegion()
        return float(start), float(end)

    def _on_loop_dragged(self) -> None:
        if not self._setting_loop and self.loop_region.isVisible():
            start, end = self.loop_region.getRegion()
            self.loop_edited.emit(float(start), float(end))

    def _on_span_drawn(self, start_s: float, end_s: float, finished: bool) -> None:
        if self._duration_s <= 0.0:
            return
        self.set_loop((max(min(start_s, end_s), 0.0), min(max(start_s, end_s), self._duration_s)))
        if finished:
            self.loop_edited.emit(start_s, end_s)

    def set_playhead_s(self, time_s: float) -> None:
        """Move the play head line."""
        self.playhead.setValue(time_s)

    @property
    def playhead_s(self) -> float:
        """Where the play head line is, in seconds."""
        return float(self.playhead.value())

    @staticmethod
    def _set_pair(items: tuple[pg.PlotDataItem, pg.PlotDataItem], envelope: PeakEnvelope | None) -> None:
        if envelope is None:
            empty = np.zeros(0)
            for item in items:
                item.setData(empty, empty)
            return
        items[0].setData(envelope.times_s, envelope.upper)
        items[1].setData(envelope.times_s, envelope.lower)

    def _on_click(self, event: object) -> None:
        if self._duration_s <= 0.0 or getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        self.seek_requested.emit(float(min(max(point.x(), 0.0), self._duration_s)))
