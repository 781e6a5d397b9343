"""Inline SVG plot for the HTML report: per condition a box plot plus the mean with its 95 % CI.

Hand-written (no matplotlib) so the report stays one self-contained file; every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from html import escape

from app.core.listening.stats import Summary

_MARGIN_LEFT = 56
_MARGIN_RIGHT = 16
_MARGIN_TOP = 16
_MARGIN_BOTTOM = 72
_SLOT_PX = 72
_HEIGHT_PX = 340


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    step = (high - low) / n
    return [low + i * step for i in range(n + 1)]


def condition_plot(
    summaries: Mapping[str, Summary],
    y_range: tuple[float, float],
    y_label: str,
    labels: Mapping[str, str] | None = None,
) -> str:
    """An ``<svg>`` element: box (quartiles, median, whiskers to the last values within 1.5 × IQR) and the mean as a
    dot with a 95 % CI bar, one slot per condition in the mapping's order."""
    labels = labels or {}
    low, high = y_range
    width = _MARGIN_LEFT + _MARGIN_RIGHT + _SLOT_PX * max(1, len(summaries))
    plot_h = _HEIGHT_PX - _MARGIN_TOP - _MARGIN_BOTTOM

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return _MARGIN_TOP + plot_h * (high - clipped) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_HEIGHT_PX}" '
        f'viewBox="0 0 {width} {_HEIGHT_PX}" role="img" aria-label="{escape(y_label)} per condition">',
        f'<rect x="{_MARGIN_LEFT}" y="{_MARGIN_TOP}" width="{width - _MARGIN_LEFT - _MARGIN_RIGHT}" '
        f'height="{plot_h}" fill="none" stroke="#888"/>',
    ]
    for tick in _ticks(low, high):
        ty = y(tick)
        parts.append(f'<line x1="{_MARGIN_LEFT - 4}" y1="{ty:.1f}" x2="{width - _MARGIN_RIGHT}" y2="{ty:.1f}" '
                     f'stroke="#ddd"/><text x="{_MARGIN_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{tick:g}</text>')
    parts.append(f'<text x="14" y="{_MARGIN_TOP + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {_MARGIN_TOP + plot_h / 2:.1f})">{escape(y_label)}</text>')
    for index, (condition, s) in enumerate(summaries.items()):
        cx = _MARGIN_LEFT + _SLOT_PX * (index + 0.5)
        parts.extend(_box(cx, s, y))
        label = escape(labels.get(condition, condition))
        ly = _HEIGHT_PX - _MARGIN_BOTTOM + 14
        parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="11" text-anchor="end" '
                     f'transform="rotate(-30 {cx:.1f} {ly})">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _box(cx: float, s: Summary, to_y: Callable[[float], float]) -> list[str]:
    if s.n == 0:
        return []
    whisker_low = to_y(max(s.minimum, s.q1 - 1.5 * s.iqr))
    whisker_high = to_y(min(s.maximum, s.q3 + 1.5 * s.iqr))
    box_x = cx - 26
    top, bottom, median = to_y(s.q3), to_y(s.q1), to_y(s.median)
    out = [
        f'<line x1="{box_x + 6:.1f}" y1="{whisker_low:.1f}" x2="{box_x + 6:.1f}" y2="{whisker_high:.1f}" '
        f'stroke="#555"/>',
        f'<rect x="{box_x:.1f}" y="{top:.1f}" width="12" height="{max(bottom - top, 1.0):.1f}" fill="#cfe0f3" '
        f'stroke="#345"/>',
        f'<line x1="{box_x:.1f}" y1="{median:.1f}" x2="{box_x + 12:.1f}" y2="{median:.1f}" stroke="#123" '
        f'stroke-width="2"/>',
    ]
    if not math.isnan(s.ci_low):
        out.append(f'<line x1="{cx + 8:.1f}" y1="{to_y(s.ci_low):.1f}" x2="{cx + 8:.1f}" '
                   f'y2="{to_y(s.ci_high):.1f}" stroke="#b22" stroke-width="2"/>')
    out.append(f'<circle cx="{cx + 8:.1f}" cy="{to_y(s.mean):.1f}" r="4" fill="#b22"/>')
    return out
