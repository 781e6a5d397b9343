"""Spectrograms of the original, the codec's reconstruction and their difference, on one dB scale, linked in zoom.

Follows pyqtgraph's image performance checklist: row-major float32 [freq, time] images (``axisOrder`` set per item,
never the global option), explicit levels, ``setRect`` in seconds x Hz. One :class:`pyqtgraph.ColorBarItem` drives
both spectra, so they always share levels and colormap; the difference has its own fixed diverging scale.

The frequency axis is linear (Hz) or logarithmic (y in log10(Hz), rows resampled by :mod:`app.core.frequency_scale`);
the view keeps the spectrograms it was given on linear rows and redraws them when the axis changes.

The loop region spans the time axis of all three plots whatever the frequency axis: drag it to move or resize it,
shift-drag to draw a new one (:mod:`app.ui.loop_region`); the three regions follow each other while dragging and
``loop_edited`` reports the result, which the window widens to 0.5 s and draws back with :meth:`set_loop`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.frequency_scale import (
    as_displayed,
    displayed_difference,
    frequency_at,
    frequency_position,
    log_frequency_ticks,
)
from app.core.spectrogram import (
    DIFFERENCE_COLORMAP,
    DIFFERENCE_LEVELS_DB,
    SPECTRUM_COLORMAP,
    SPECTRUM_LEVELS_DB,
    Spectrogram,
)
from app.ui.loop_region import LoopRegionItem, LoopViewBox
from app.ui.spectrogram_panel import SpectrogramPanel

NO_CLIP_TEXT = "Open an audio file to see its spectrogram"
NO_RENDER_TEXT = "Render to compare with the codec"


class SpectrogramView(QWidget):
    """Three stacked, linked spectrogram plots: Original, Codec, Difference (codec - original).

    Signals
    -------
    loop_edited(float, float)
        The user dragged or drew the loop region on one of the plots to (start_s, end_s), not yet widened.
    """

    loop_edited = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("k")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.original = SpectrogramPanel(self._add_plot(0), "Original", NO_CLIP_TEXT)
        self.codec = SpectrogramPanel(self._add_plot(1), "Codec", NO_RENDER_TEXT)
        self.difference = SpectrogramPanel(self._add_plot(2), "Difference (codec - original)", NO_RENDER_TEXT)
        self.difference.plot.setLabel("bottom", "time", units="s")
        for panel in (self.codec, self.difference):
            panel.plot.setXLink(self.original.plot)
            panel.plot.setYLink(self.original.plot)
        for panel in (self.original, self.codec):  # the time axis is read off the bottom plot only
            panel.plot.getAxis("bottom").setStyle(showValues=False)
        self.spectrum_bar = pg.ColorBarItem(
            values=SPECTRUM_LEVELS_DB, colorMap=SPECTRUM_COLORMAP, label="dB FS", interactive=True, width=14
        )
        self.spectrum_bar.setImageItem([self.original.image, self.codec.image])
        self.graphics.addItem(self.spectrum_bar, row=0, col=1, rowspan=2)
        self.difference_bar = pg.ColorBarItem(
            values=DIFFERENCE_LEVELS_DB, colorMap=DIFFERENCE_COLORMAP, label="dB", interactive=False, width=14
        )
        self.difference_bar.setImageItem(self.difference.image)
        self.graphics.addItem(self.difference_bar, row=2, col=1)
        self._band_limit_hz: float | None = None
        self._log_frequency = False
        # What the caller gave, on linear rows: original, codec, difference.
        self._sources: tuple[Spectrogram | None, Spectrogram | None, Spectrogram | None] = (None, None, None)
        self.set_band_limit(None)
        self._setting_loop = False
        for panel in self.panels:
            panel.loop.sigRegionChanged.connect(self._on_loop_moving)
            panel.loop.sigRegionChangeFinished.connect(self._on_loop_moved)
            panel.plot.getViewBox().span_drawn.connect(self._on_span_drawn)

    def _add_plot(self, row: int) -> pg.PlotItem:
        return self.graphics.addPlot(row=row, col=0, viewBox=LoopViewBox())

    @property
    def panels(self) -> tuple[SpectrogramPanel, SpectrogramPanel, SpectrogramPanel]:
        """Original, codec, difference."""
        return self.original, self.codec, self.difference

    def set_original(self, spectrogram: Spectrogram | None) -> None:
        """Show a new clip's spectrogram (None clears); clears the codec and difference plots."""
        self._sources = (spectrogram, None, None)
        self.original.show(as_displayed(spectrogram, self._log_frequency), self._spectrum_levels())
        self.set_reconstruction(None, None)
        self.set_band_limit(None)
        self.set_loop(None)
        self.set_playhead(0.0)
        shown = self.original.shown
        if shown is None:
            return
        self._set_limits(shown)
        self._set_frequency_axis()
        x0_s, _, width_s, _ = shown.extent
        self.original.plot.getViewBox().setRange(xRange=(0.0, x0_s + width_s), yRange=self._full_y_range(shown),
                                                 padding=0.0)

    def set_reconstruction(self, codec: Spectrogram | None, difference: Spectrogram | None) -> None:
        """Show the codec's spectrogram and its difference from the original (None shows the placeholders)."""
        self._sources = (self._sources[0], codec, difference)
        shown_codec = as_displayed(codec, self._log_frequency)
        self.codec.show(shown_codec, self._spectrum_levels())
        self.difference.show(displayed_difference(self.original.shown, shown_codec, difference), DIFFERENCE_LEVELS_DB)

    def set_log_frequency(self, enabled: bool) -> None:
        """Draw the frequency axis logarithmic (True) or linear; the frequency zoom and band-limit line follow."""
        if enabled == self._log_frequency:
            return
        old_range = self._frequency_range_hz()
        self._log_frequency = enabled
        original, codec, difference = self._sources
        self.original.show(as_displayed(original, enabled), self._spectrum_levels())
        self.set_reconstruction(codec, difference)
        self._set_frequency_axis()
        self.set_band_limit(self._band_limit_hz)
        shown = self.original.shown
        if shown is None or old_range is None:
            return
        self._set_limits(shown)
        full_low, full_high = self._full_y_range(shown)
        low_hz, high_hz = old_range  # None: that edge of the image was in view, and stays so
        low = full_low if low_hz is None else max(frequency_position(low_hz, enabled), full_low)
        high = full_high if high_hz is None else min(frequency_position(high_hz, enabled), full_high)
        self.original.plot.getViewBox().setYRange(*((low, high) if high > low else (full_low, full_high)),
                                                  padding=0.0)

    @property
    def log_frequency(self) -> bool:
        """Whether the frequency axis is logarithmic."""
        return self._log_frequency

    def set_loop(self, region: tuple[float, float] | None) -> None:
        """Draw the loop region (start_s, end_s) on all three plots, or hide it (None); emits nothing."""
        self._setting_loop = True
        try:
            for panel in self.panels:
                if region is not None:
                    panel.loop.setRegion(region)
                panel.loop.setVisible(region is not None)
        finally:
            self._setting_loop = False

    @property
    def loop(self) -> tuple[float, float] | None:
        """The loop region shown (start_s, end_s), or None."""
        if not self.original.loop.isVisible():
            return None
        start_s, end_s = self.original.loop.getRegion()
        return float(start_s), float(end_s)

    def _on_loop_moving(self, moved: LoopRegionItem) -> None:
        # One region is being dragged: the other two follow it live (the engine hears of it on release).
        if not self._setting_loop:
            self.set_loop(moved.getRegion())

    def _on_loop_moved(self, moved: LoopRegionItem) -> None:
        if not self._setting_loop and moved.isVisible():
            start_s, end_s = moved.getRegion()
            self.loop_edited.emit(float(start_s), float(end_s))

    def _on_span_drawn(self, start_s: float, end_s: float, finished: bool) -> None:
        if self.original.shown is None:
            return
        self.set_loop((min(start_s, end_s), max(start_s, end_s)))
        if finished:
            self.loop_edited.emit(start_s, end_s)

    def set_condition_title(self, title: str) -> None:
        """Name the condition the middle and bottom plots show."""
        self.codec.plot.setTitle(title, size="9pt")
        self.difference.plot.setTitle(f"Difference ({title} - original)", size="9pt")

    def set_colormap(self, name: str) -> None:
        """Use the pyqtgraph colour map ``name`` for both spectra."""
        self.spectrum_bar.setColorMap(pg.colormap.get(name))

    def set_playhead(self, seconds: float) -> None:
        """Move the play head line on all three plots."""
        for panel in self.panels:
            panel.playhead.setValue(seconds)

    @property
    def playhead_s(self) -> float:
        """Where the play head is, in seconds."""
        return float(self.original.playhead.value())

    def set_band_limit(self, hz: float | None) -> None:
        """Draw a dashed line at a model's band limit (its Nyquist frequency), or hide it (None)."""
        self._band_limit_hz = hz
        for panel in self.panels:
            panel.band_limit.setVisible(hz is not None)
            if hz is not None:
                panel.band_limit.setValue(frequency_position(hz, self._log_frequency))
                panel.band_limit.label.setFormat(f"{2 * hz / 1000:g} kHz model band limit ({hz / 1000:g} kHz)")

    @property
    def band_limit_hz(self) -> float | None:
        """The band limit shown, or None."""
        return self._band_limit_hz

    def _set_limits(self, shown: Spectrogram) -> None:
        x0_s, y0, width_s, height = shown.extent
        for panel in self.panels:  # limits are per view box; linking only syncs the ranges
            panel.plot.getViewBox().setLimits(xMin=x0_s, xMax=x0_s + width_s, yMin=y0, yMax=y0 + height)

    def _full_y_range(self, shown: Spectrogram) -> tuple[float, float]:
        # Linear: 0 Hz to Nyquist; log: the lowest row's centre to Nyquist.
        return (frequency_position(float(shown.freqs_hz[0]), self._log_frequency),
                frequency_position(float(shown.freqs_hz[-1]), self._log_frequency))

    def _frequency_range_hz(self) -> tuple[float | None, float | None] | None:
        # The frequencies at the bottom and top of the view; None for an edge at or past the image's full range.
        shown = self.original.shown
        if shown is None:
            return None
        low, high = self.original.plot.getViewBox().viewRange()[1]
        full_low, full_high = self._full_y_range(shown)
        tolerance = 1e-6 * (full_high - full_low)
        return (
            None if low <= full_low + tolerance else frequency_at(low, self._log_frequency),
            None if high >= full_high - tolerance else frequency_at(high, self._log_frequency),
        )

    def _set_frequency_axis(self) -> None:
        shown = self.original.shown
        ticks = None
        if self._log_frequency and shown is not None:
            ticks = list(log_frequency_ticks(float(shown.freqs_hz[0]), float(shown.freqs_hz[-1])))
        for panel in self.panels:
            panel.plot.getAxis("left").setTicks(ticks)

    def _spectrum_levels(self) -> tuple[float, float]:
        # The bar's current levels (the user may have dragged them), so a new image does not reset the scale.
        low, high = self.spectrum_bar.levels()
        return float(low), float(high)
