"""MUSHRA low-pass anchors (ITU-R BS.1534-3 §5.1) at any sample rate, without time shift.

BS.1534-3 asks for a 3.5 kHz low-pass "low anchor" with a normative mask (passband ripple ≤ ±0.1 dB, ≥ 25 dB down
at 4 kHz, ≥ 50 dB down at 4.5 kHz and above) and a 7 kHz "mid anchor". The mask is only written for the low anchor;
for any other cutoff we scale every frequency of it by ``cutoff_hz / 3500``, so the 7 kHz anchor guarantees ripple
≤ ±0.1 dB up to 6.4 kHz, ≥ 25 dB at 8 kHz and ≥ 50 dB at 9 kHz and above.

What we guarantee (checked by the tests on the response actually applied, see :func:`anchor_filter_response`) is
stricter than the mask: with ``k = cutoff_hz / 3500``,

* passband: ripple ≤ ±0.1 dB (in practice about ±0.01 dB) from 0 Hz to ``3200 k`` Hz (3.2 kHz / 6.4 kHz);
* -6 dB point at ``cutoff_hz`` (the transition band is symmetric around it, ``3200 k`` … ``3800 k`` Hz);
* stopband: ≥ 50 dB (designed for 60 dB) from ``3800 k`` Hz (3.8 kHz / 7.6 kHz) up to Nyquist, which covers both
  the 25 dB point (4 kHz / 8 kHz) and the 50 dB region (≥ 4.5 kHz / ≥ 9 kHz) of the mask.

The filter is a linear-phase (type I, odd-length, symmetric) Kaiser-window FIR designed for the sample rate at hand,
so there are no fixed tables that only exist for a few rates (webMUSHRA #97). It is applied by convolution with
exact ``(N - 1) / 2`` delay compensation, so the anchor is sample-aligned with the reference (webMUSHRA's anchors are
late by about 103 samples at 48 kHz, see the listening-tests spec §2.1 and §4 item 4).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from codec.audio import as_audio_array, check_sample_rate
from codec.errors import InvalidAudioError

__all__ = ["LOW_ANCHOR_CUTOFF_HZ", "MID_ANCHOR_CUTOFF_HZ", "anchor_filter_response", "low_anchor", "lowpass_anchor"]
__all__ += ["mid_anchor", "passband_edge_hz", "stopband_edge_hz"]

LOW_ANCHOR_CUTOFF_HZ = 3500.0
"""BS.1534-3 low anchor: 3.5 kHz low-pass."""
MID_ANCHOR_CUTOFF_HZ = 7000.0
"""BS.1534-3 mid anchor: 7 kHz low-pass."""

STOPBAND_ATTENUATION_DB = 60.0
"""Design target; 10 dB of margin over the mask's 50 dB, and a passband ripple of about ±0.009 dB with it."""
_HALF_TRANSITION_RATIO = 300.0 / 3500.0
"""Half the transition width as a fraction of the cutoff: 3.2 … 3.8 kHz around 3.5 kHz, inside the mask."""
_MAX_TAPS = 1 << 18
"""Guards against absurd designs when Nyquist lies just above the cutoff (the transition band shrinks with it)."""


def _check_cutoff(cutoff_hz: float) -> float:
    if isinstance(cutoff_hz, bool) or not isinstance(cutoff_hz, (int, float, np.integer, np.floating)):
        raise InvalidAudioError(f"cutoff must be a number in Hz, got {cutoff_hz!r}")
    cutoff = float(cutoff_hz)
    if not math.isfinite(cutoff) or cutoff <= 0.0:
        raise InvalidAudioError(f"cutoff must be a positive finite frequency in Hz, got {cutoff_hz!r}")
    return cutoff


def passband_edge_hz(cutoff_hz: float) -> float:
    """Highest frequency up to which the ±0.1 dB ripple is guaranteed (3.2 kHz for the 3.5 kHz anchor)."""
    return _check_cutoff(cutoff_hz) * (1.0 - _HALF_TRANSITION_RATIO)


def stopband_edge_hz(cutoff_hz: float) -> float:
    """Lowest frequency from which ≥ 50 dB attenuation is guaranteed (3.8 kHz for the 3.5 kHz anchor)."""
    return _check_cutoff(cutoff_hz) * (1.0 + _HALF_TRANSITION_RATIO)


def _design_taps(sample_rate: int, cutoff_hz: float) -> np.ndarray | None:
    """Odd-length linear-phase low-pass taps, or None when Nyquist ≤ cutoff (nothing to remove)."""
    nyquist = sample_rate / 2.0
    if nyquist <= cutoff_hz:
        return None
    # Narrow the transition band when Nyquist falls inside it (odd rates only: at 8 kHz and up the 3.5 kHz anchor
    # keeps its full 600 Hz, and so does the 7 kHz anchor at 16 kHz and up); the stopband then ends at Nyquist.
    half_width_hz = min(cutoff_hz * _HALF_TRANSITION_RATIO, nyquist - cutoff_hz)
    num_taps, beta = signal.kaiserord(STOPBAND_ATTENUATION_DB, 2.0 * half_width_hz / nyquist)
    num_taps |= 1  # odd length: a type I filter whose (N - 1) / 2 delay is a whole number of samples
    if num_taps > _MAX_TAPS:
        raise InvalidAudioError(
            f"a {cutoff_hz:g} Hz anchor at {sample_rate} Hz needs {num_taps} taps because Nyquist lies only "
            f"{nyquist - cutoff_hz:g} Hz above the cutoff; use a more usual sample rate"
        )
    return signal.firwin(num_taps, cutoff_hz, window=("kaiser", beta), fs=sample_rate)


def anchor_filter_response(sample_rate: int, cutoff_hz: float, freqs_hz: np.ndarray) -> np.ndarray:
    """Magnitude response in dB of exactly the filter :func:`lowpass_anchor` applies.

    Parameters
    ----------
    sample_rate : int
        In Hz.
    cutoff_hz : float
        Anchor cutoff in Hz.
    freqs_hz : np.ndarray
        ``[F]`` frequencies in Hz, in ``[0, sample_rate / 2]``.

    Returns
    -------
    np.ndarray
        ``[F]`` float64 gain in dB (0 dB everywhere when the anchor is the identity, i.e. Nyquist ≤ cutoff). The
        phase is zero once the delay is compensated, so the magnitude is the whole response.
    """
    sample_rate = check_sample_rate(sample_rate)
    freqs = np.asarray(freqs_hz, dtype=np.float64)
    if freqs.size and (freqs.min() < 0.0 or freqs.max() > sample_rate / 2.0):
        raise InvalidAudioError(f"frequencies must lie in [0, {sample_rate / 2:g}] Hz")
    taps = _design_taps(sample_rate, _check_cutoff(cutoff_hz))
    if taps is None:
        return np.zeros_like(freqs)
    _, response = signal.freqz(taps, worN=freqs, fs=sample_rate)
    return 20.0 * np.log10(np.maximum(np.abs(response), 1e-300))


def lowpass_anchor(audio: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Low-pass ``audio`` to make a MUSHRA anchor, with zero time shift.

    Parameters
    ----------
    audio : np.ndarray
        ``[C, T]`` (or ``[T]``) samples; each channel is filtered on its own.
    sample_rate : int
        In Hz; any rate works, the filter is designed for it.
    cutoff_hz : float
        -6 dB frequency in Hz. When Nyquist (``sample_rate / 2``) is at or below it there is nothing to remove and
        the anchor equals the input (e.g. the 7 kHz anchor at 8 or 11.025 kHz).

    Returns
    -------
    np.ndarray
        float32 ``[C, T]``, the same shape as the (validated) input.

    Notes
    -----
    Why a linear-phase FIR and not ``sosfiltfilt``: its magnitude response is exactly the designed one (filtfilt
    squares an IIR response and its start/end depend on the padding scheme), and with the ``(N - 1) / 2`` delay
    removed its phase is exactly zero, so the anchor is sample-aligned with the reference. The signal is taken as
    zero outside ``[0, T)``, as the listener hears it: silence before and after the excerpt.
    """
    samples = as_audio_array(audio)
    sample_rate = check_sample_rate(sample_rate)
    taps = _design_taps(sample_rate, _check_cutoff(cutoff_hz))
    if taps is None:
        return samples.copy()
    delay = (taps.size - 1) // 2
    # Full convolution in float64, then keep samples delay … delay + T: the output lines up with the input exactly.
    full = signal.oaconvolve(samples.astype(np.float64), taps[np.newaxis, :], mode="full", axes=-1)
    return np.ascontiguousarray(full[:, delay : delay + samples.shape[1]], dtype=np.float32)


def low_anchor(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """BS.1534-3 low anchor: :func:`lowpass_anchor` at 3.5 kHz (``[C, T]`` in, float32 ``[C, T]`` out)."""
    return lowpass_anchor(audio, sample_rate, LOW_ANCHOR_CUTOFF_HZ)


def mid_anchor(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """BS.1534-3 mid anchor: :func:`lowpass_anchor` at 7 kHz (``[C, T]`` in, float32 ``[C, T]`` out)."""
    return lowpass_anchor(audio, sample_rate, MID_ANCHOR_CUTOFF_HZ)
