"""Per-condition plot of a listening test: a box plot (quartiles, median, min-max whiskers) per condition with
the mean and its 95 % bootstrap CI as an error bar beside it (BS.1534-3 §9.1 starts with box plots, §10.3 asks
for median/IQR and mean with CI)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.core.listening.stats import Summary

BOX_WIDTH = 0.35
MEAN_OFFSET = 0.3


class ConditionPlot(pg.PlotWidget):
    """Shows ``{label: Summary}``; ``show_summaries`` replaces the plot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.showGrid(y=True, alpha=0.3)
        self.setMouseEnabled(x=False, y=False)
        self.n_conditions = 0

    def show_summaries(self, summaries: Mapping[str, Summary], y_label: str, y_range: tuple[float, float]) -> None:
        self.clear()
        labels = [label for label, s in summaries.items() if s.n]
        stats = [summaries[label] for label in labels]
        self.n_conditions = len(labels)
        self.getAxis("bottom").setTicks([list(enumerate(labels))])
        self.setLabel("left", y_label)
        self.setYRange(*y_range)
        self.setXRange(-0.6, max(len(labels) - 0.4, 0.6))
        if not stats:
            return
        x = np.arange(len(stats), dtype=float)
        q1 = np.array([s.q1 for s in stats])
        q3 = np.array([s.q3 for s in stats])
        self.addItem(pg.BarGraphItem(x=x, y0=q1, height=np.maximum(q3 - q1, 1e-6), width=BOX_WIDTH,
                                     brush=pg.mkBrush(170, 200, 240), pen=pg.mkPen("k")))
        pen = pg.mkPen("k")
        for xi, s in zip(x, stats, strict=True):
            self.plot([xi, xi], [s.minimum, s.q1], pen=pen)
            self.plot([xi, xi], [s.q3, s.maximum], pen=pen)
            self.plot([xi - BOX_WIDTH / 2, xi + BOX_WIDTH / 2], [s.median] * 2, pen=pg.mkPen("k", width=2))
        means = np.array([s.mean for s in stats])
        low = np.array([s.mean - s.ci_low if np.isfinite(s.ci_low) else 0.0 for s in stats])
        high = np.array([s.ci_high - s.mean if np.isfinite(s.ci_high) else 0.0 for s in stats])
        self.addItem(pg.ErrorBarItem(x=x + MEAN_OFFSET, y=means, top=high, bottom=low, beam=0.08,
                                     pen=pg.mkPen((200, 40, 40), width=2)))
        self.addItem(pg.ScatterPlotItem(x=x + MEAN_OFFSET, y=means, size=8, brush=pg.mkBrush(200, 40, 40)))
