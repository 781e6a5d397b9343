"""The loop-region gesture shared by the time plots (waveform and spectrograms).

Drag the region's body to move it or an edge to resize it; shift + left drag anywhere on the plot draws a new one
(a plain drag still pans). The plots only report the times the user chose: the window widens the loop to the 0.5 s
minimum and clamps it to the clip (``app.core.audition.loop_region``), hands it to the engine and draws the result
back on every plot, so all views and the engine always show the same loop.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal


def _shift_held(event: Any) -> bool:
    return bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)


class LoopRegionItem(pg.LinearRegionItem):
    """A movable loop region that hands shift-drags to its view box, which draws a new region.

    (Forwarded rather than ignored: once the pointer hovered the region, pyqtgraph sends the whole drag to it.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._forwarding = False

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.isStart():
            self._forwarding = _shift_held(ev) and isinstance(self.getViewBox(), LoopViewBox)
        if not self._forwarding:
            super().mouseDragEvent(ev)
            return
        if ev.isFinish():
            self._forwarding = False
        self.getViewBox().mouseDragEvent(ev)


class LoopViewBox(pg.ViewBox):
    """A view box on which shift + left drag draws a time span instead of panning.

    Signals
    -------
    span_drawn(float, float, bool)
        (start_s, end_s, finished): where the drag started and where it is now, in seconds (unordered), emitted
        while the mouse moves and once more with ``finished`` True on release.
    """

    span_drawn = Signal(float, float, bool)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawing = False

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if ev.isStart():  # decided once per drag: letting go of shift half-way does not turn it into a pan
            self._drawing = axis is None and ev.button() == Qt.MouseButton.LeftButton and _shift_held(ev)
        if not self._drawing:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start_s = self.mapSceneToView(ev.buttonDownScenePos()).x()
        end_s = self.mapSceneToView(ev.scenePos()).x()
        finished = bool(ev.isFinish())
        if finished:
            self._drawing = False
        self.span_drawn.emit(float(start_s), float(end_s), finished)
