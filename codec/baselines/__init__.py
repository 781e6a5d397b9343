"""Reference conditions for listening tests: MUSHRA anchors and lossy-codec baselines (Opus, MP3, Vorbis)."""

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
from codec.baselines.cache import cache_key, cached_encode_decode, default_cache_dir
from codec.baselines.lossy import CODECS, MIN_DURATION_S, LossyResult, encode_decode

__all__ = [
    "CODECS",
    "LOW_ANCHOR_CUTOFF_HZ",
    "MID_ANCHOR_CUTOFF_HZ",
    "MIN_DURATION_S",
    "LossyResult",
    "anchor_filter_response",
    "cache_key",
    "cached_encode_decode",
    "default_cache_dir",
    "encode_decode",
    "low_anchor",
    "lowpass_anchor",
    "mid_anchor",
    "passband_edge_hz",
    "stopband_edge_hz",
]
