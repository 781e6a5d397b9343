"""Objective evaluation helpers: time alignment of conditions, BS.1770 loudness / true peak and quality metrics."""

from __future__ import annotations

from codec.evaluation.alignment import AlignedCondition, align, measure_lag
from codec.evaluation.loudness import (
    ConditionLoudness,
    LoudnessPlan,
    integrated_loudness_lufs,
    match_loudness,
    true_peak_dbtp,
)
from codec.evaluation.metrics import (
    ALL_METRICS,
    HIGHER_IS_BETTER,
    MetricNotApplicableError,
    MetricValue,
    compute_metrics,
    pesq_wb,
    si_sdr_db,
    stoi,
    visqol_audio,
)
from codec.evaluation.spectral import mel_distance, stft_distance

__all__ = [
    "ALL_METRICS",
    "HIGHER_IS_BETTER",
    "AlignedCondition",
    "ConditionLoudness",
    "LoudnessPlan",
    "MetricNotApplicableError",
    "MetricValue",
    "align",
    "compute_metrics",
    "integrated_loudness_lufs",
    "match_loudness",
    "measure_lag",
    "mel_distance",
    "pesq_wb",
    "si_sdr_db",
    "stft_distance",
    "stoi",
    "true_peak_dbtp",
    "visqol_audio",
]
