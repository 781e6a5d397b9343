"""Objective evaluation helpers: time alignment of conditions and BS.1770 loudness / true peak."""

from __future__ import annotations

from codec.evaluation.alignment import AlignedCondition, align, measure_lag
from codec.evaluation.loudness import (
    ConditionLoudness,
    LoudnessPlan,
    integrated_loudness_lufs,
    match_loudness,
    true_peak_dbtp,
)

__all__ = [
    "AlignedCondition",
    "ConditionLoudness",
    "LoudnessPlan",
    "align",
    "integrated_loudness_lufs",
    "match_loudness",
    "measure_lag",
    "true_peak_dbtp",
]
