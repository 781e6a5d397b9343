"""Peak envelopes for drawing long signals with a few thousand points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PeakEnvelope:
    """Per-bin minimum and maximum of a signal (all channels together).

    Attributes
    ----------
    times_s : np.ndarray
        float64 [B], the start time of each bin in seconds.
    lower : np.ndarray
        float32 [B], the minimum sample in each bin.
    upper : np.ndarray
        float32 [B], the maximum sample in each bin.
    """

    times_s: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def peak_envelope(audio: np.ndarray, sample_rate: int, max_bins: int = 4000) -> PeakEnvelope:
    """Reduce float32 [C, T] audio to at most ``max_bins`` (min, max) pairs.

    Parameters
    ----------
    audio : np.ndarray
        Samples, shape [C, T].
    sample_rate : int
        Rate in Hz, to express bin times in seconds.
    max_bins : int
        Upper bound on the number of bins B.

    Returns
    -------
    PeakEnvelope
        Bins of ``ceil(T / B)`` samples each; the last one may be shorter.
    """
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise ValueError(f"audio must have shape [C, T] with T > 0, got {audio.shape}")
    if max_bins < 1:
        raise ValueError(f"max_bins must be >= 1, got {max_bins}")
    num_samples = audio.shape[1]
    bin_size = max(1, -(-num_samples // max_bins))
    num_bins = -(-num_samples // bin_size)
    padded = np.pad(audio, ((0, 0), (0, num_bins * bin_size - num_samples)), mode="edge")
    blocks = padded.reshape(audio.shape[0], num_bins, bin_size)
    lower = blocks.min(axis=(0, 2)).astype(np.float32)
    upper = blocks.max(axis=(0, 2)).astype(np.float32)
    times_s = np.arange(num_bins, dtype=np.float64) * bin_size / sample_rate
    return PeakEnvelope(times_s=times_s, lower=lower, upper=upper)
