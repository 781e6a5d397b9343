"""One plot of the spectrogram stack: its image, play head, loop region, band-limit line and placeholder text.

:class:`~app.ui.spectrogram_view.SpectrogramView` stacks three of these (original, codec, difference) and keeps them
linked; a panel only draws what it is given.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from app.core.spectrogram import Spectrogram
from app.ui.loop_region import LoopRegionItem

_PLAYHEAD_PEN = (255, 255, 255)
_BAND_LIMIT_PEN = (80, 220, 255)
_LOOP_BRUSH = (255, 255, 255, 30)
_LOOP_PEN = (255, 255, 255, 120)
_PLACEHOLDER_COLOUR = (200, 200, 200)


class SpectrogramPanel:
    """One plot of the stack: its image, play head, band-limit line and placeholder text."""

    def __init__(self, plot: pg.PlotItem, title: str, placeholder: str) -> None:
        self.plot = plot
        plot.setTitle(title, size="9pt")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("left", "frequency", units="Hz")
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen(_PLAYHEAD_PEN, width=1))
        plot.addItem(self.playhead)
        self.loop = LoopRegionItem(
            movable=True, brush=pg.mkBrush(_LOOP_BRUSH), pen=pg.mkPen(_LOOP_PEN, style=Qt.PenStyle.DashLine)
        )
        self.loop.setVisible(False)
        plot.addItem(self.loop, ignoreBounds=True)
        self.band_limit = pg.InfiniteLine(
            pos=0.0,
            angle=0,
            movable=False,
            pen=pg.mkPen(_BAND_LIMIT_PEN, width=1, style=Qt.PenStyle.DashLine),
            label="",
            labelOpts={"position": 0.02, "color": _BAND_LIMIT_PEN, "anchors": [(0, 1), (0, 1)]},
        )
        self.band_limit.setVisible(False)
        plot.addItem(self.band_limit, ignoreBounds=True)
        # Parented to the view box, not added to the plot: it stays put in screen space whatever the zoom.
        self.placeholder = pg.TextItem(placeholder, color=_PLACEHOLDER_COLOUR, anchor=(0, 0))
        self.placeholder.setParentItem(plot.getViewBox())
        self.placeholder.setPos(8, 8)
        #: The spectrogram drawn, on the displayed frequency axis (None: the placeholder shows).
        self.shown: Spectrogram | None = None

    def show(self, spectrogram: Spectrogram | None, levels: tuple[float, float]) -> None:
        """Draw ``spectrogram`` (already on the displayed frequency axis), or the placeholder (None)."""
        self.shown = spectrogram
        if spectrogram is None:
            self.image.clear()
            self.image.setVisible(False)
            self.placeholder.setVisible(True)
            return
        self.image.setImage(spectrogram.db, autoLevels=False, levels=levels)
        self.image.setRect(QRectF(*spectrogram.extent))
        self.image.setVisible(True)
        self.placeholder.setVisible(False)
