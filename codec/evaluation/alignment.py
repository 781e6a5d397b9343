"""Time alignment of a decoded condition with its reference (listening-tests spec §4 items 4-5).

An unaligned condition gives listeners a timing cue when they switch and corrupts difference spectrograms and
objective metrics. :func:`align` brings a condition to the reference's sample rate and channel count, measures its
integer lag by cross-correlation, removes it and pads/trims to the reference length, keeping the lag it removed so
it can be stored with the results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import fft, signal

from codec.audio import as_audio_array, check_sample_rate, convert_channels, resample
from codec.errors import InvalidAudioError

__all__ = ["AlignedCondition", "align", "measure_lag"]

Weighting = Literal["none", "phat"]


@dataclass(frozen=True, eq=False)
class AlignedCondition:
    """A condition aligned with its reference.

    Attributes
    ----------
    audio : np.ndarray
        float32 ``[C, T]`` (read-only), with the reference's channel count and length.
    lag_samples : int
        The delay that was removed, in samples at ``sample_rate``: positive when the condition was late.
    sample_rate : int
        The reference's rate in Hz.
    """

    audio: np.ndarray
    lag_samples: int
    sample_rate: int


def _channel_mean(audio: np.ndarray) -> np.ndarray:
    """``[C, T]`` -> float64 ``[T]`` mono with its mean removed (a DC offset would bias the peak towards lag 0)."""
    mono = audio.mean(axis=0, dtype=np.float64)
    return mono - mono.mean()


def measure_lag(
    reference: np.ndarray,
    degraded: np.ndarray,
    sample_rate: int,
    max_lag_s: float = 0.1,
    weighting: Weighting = "none",
) -> int:
    """How many samples ``degraded`` is delayed relative to ``reference``.

    Parameters
    ----------
    reference, degraded : np.ndarray
        ``[C, T]`` (or ``[T]``) at the same ``sample_rate``; channel counts and lengths may differ. The channel mean
        of each is compared.
    sample_rate : int
        In Hz; only used to turn ``max_lag_s`` into samples.
    max_lag_s : float
        The search covers lags in ``[-max_lag_s, +max_lag_s]``. 0.1 s covers codec delays (MP3 about 1105 samples
        at 44.1 kHz, AAC about 2048) without letting a repeated bar of music win.
    weighting : {"none", "phat"}
        ``"none"`` (default): plain cross-correlation, computed by FFT. It weights each frequency by the energy the
        two signals share, so the bands a codec leaves empty or fills with noise (a 24 kHz model above 12 kHz, the
        top octave of a low-bit-rate condition, an anchor above its cutoff) barely count. ``"phat"``: GCC-PHAT,
        which whitens the cross-spectrum so that every bin counts equally; its peak is sharper for tonal or
        strongly low-passed material, but noise-only bins then count as much as the music, which is why it is
        not the default for codec output.

    Returns
    -------
    int
        ``d`` such that ``degraded[n] ≈ reference[n - d]``; 0 when either signal is silent (no peak to find).
    """
    sample_rate = check_sample_rate(sample_rate)
    if isinstance(max_lag_s, bool) or not isinstance(max_lag_s, (int, float)) or not math.isfinite(max_lag_s):
        raise InvalidAudioError(f"max_lag_s must be a finite number of seconds, got {max_lag_s!r}")
    if max_lag_s < 0:
        raise InvalidAudioError(f"max_lag_s must be ≥ 0, got {max_lag_s!r}")
    if weighting not in ("none", "phat"):
        raise InvalidAudioError(f"weighting must be 'none' or 'phat', got {weighting!r}")
    ref = _channel_mean(as_audio_array(reference))
    deg = _channel_mean(as_audio_array(degraded))
    if not np.any(ref) or not np.any(deg):
        return 0
    max_lag = round(max_lag_s * sample_rate)
    lags = signal.correlation_lags(deg.size, ref.size, mode="full")
    window = np.abs(lags) <= max_lag
    if weighting == "none":
        corr = signal.correlate(deg, ref, mode="full", method="fft")
    else:
        size = fft.next_fast_len(deg.size + ref.size - 1, real=True)
        cross = fft.rfft(deg, size) * np.conj(fft.rfft(ref, size))
        magnitude = np.abs(cross)
        # Regularise: bins with (numerically) no shared energy stay near zero instead of being blown up to 1.
        cross /= np.maximum(magnitude, 1e-12 * magnitude.max())
        corr = fft.irfft(cross, size)[lags % size]
    candidates = corr[window]
    best = int(np.argmax(candidates))
    if candidates[best] <= 0.0:
        return 0
    return int(lags[window][best])


def align(
    reference: np.ndarray,
    degraded: np.ndarray,
    sample_rate: int,
    degraded_rate: int | None = None,
    max_lag_s: float = 0.1,
    weighting: Weighting = "none",
) -> AlignedCondition:
    """Bring ``degraded`` to the reference's rate, channel count, timing and length.

    Parameters
    ----------
    reference : np.ndarray
        ``[C, T]`` (or ``[T]``) at ``sample_rate``; it is never resampled (that would change what "reference" means).
    degraded : np.ndarray
        ``[C', T']`` (or ``[T']``) at ``degraded_rate``.
    sample_rate : int
        The reference's rate in Hz.
    degraded_rate : int, optional
        The condition's rate in Hz; ``None`` means ``sample_rate``. Other rates are resampled with soxr VHQ.
    max_lag_s, weighting
        As in :func:`measure_lag`.

    Returns
    -------
    AlignedCondition
        float32 ``[C, T]`` audio with the measured integer lag removed: a late condition loses its first
        ``lag_samples`` samples, an early one gets zeros in front; then the end is zero-padded or trimmed to ``T``.

    Raises
    ------
    InvalidAudioError
        Invalid audio or rates, or a channel count that cannot be converted (e.g. 6 -> 2).
    """
    ref = as_audio_array(reference)
    sample_rate = check_sample_rate(sample_rate)
    rate = sample_rate if degraded_rate is None else check_sample_rate(degraded_rate, "degraded sample rate")
    deg = resample(as_audio_array(degraded), rate, sample_rate)
    deg = convert_channels(deg, ref.shape[0])
    lag = measure_lag(ref, deg, sample_rate, max_lag_s, weighting)
    num_samples = ref.shape[1]
    out = np.zeros_like(ref)
    # out[n] = deg[n + lag], for the n in [0, T) where deg has a sample.
    start = max(0, -lag)
    source = deg[:, max(0, lag) :]
    count = max(0, min(num_samples - start, source.shape[1]))
    out[:, start : start + count] = source[:, :count]
    out.flags.writeable = False
    return AlignedCondition(audio=out, lag_samples=lag, sample_rate=sample_rate)
