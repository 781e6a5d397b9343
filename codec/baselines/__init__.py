"""Reference conditions for listening tests: MUSHRA anchors (and, from other modules, lossy-codec baselines)."""

from __future__ import annotations

from codec.baselines.anchors import (
    LOW_ANCHOR_CUTOFF_HZ,
    MID_ANCHOR_CUTOFF_HZ,
    anchor_filter_response,
    low_anchor,
    lowpass_anchor,
    mid_anchor,
    passband_edge_hz,
    stopband_edge_hz,
)

__all__ = [
    "LOW_ANCHOR_CUTOFF_HZ",
    "MID_ANCHOR_CUTOFF_HZ",
    "anchor_filter_response",
    "low_anchor",
    "lowpass_anchor",
    "mid_anchor",
    "passband_edge_hz",
    "stopband_edge_hz",
]
