"""Spectral distances between aligned signals, as the DAC paper defines them (Kumar et al. 2023, §4.4 and Table 1).

Both are our own NumPy implementations of the losses in descript-audio-codec (``dac/nn/loss.py`` with the settings
of ``conf/base.yml``, computed through audiotools' STFT and librosa's default mel filterbank):

* **multi-scale mel distance** (:func:`mel_distance`): seven scales, window lengths 32 … 2048 samples with
  5 … 320 mel bands, log-magnitude L1 only;
* **multi-resolution STFT distance** (:func:`stft_distance`): window lengths 2048 and 512, log-power L1 plus
  magnitude L1.

Both are distances (0 for identical signals, lower is better) on absolute magnitudes: they are not gain-invariant,
and their values depend on the sample rate (the mel bands span 0 Hz to Nyquist), so compare conditions only at the
same rate and level, as :func:`codec.evaluation.align` delivers them.
"""

from __future__ import annotations

import functools

import numpy as np

from codec.audio import as_audio_array, check_sample_rate
from codec.errors import InvalidAudioError

__all__ = ["MEL_N_MELS", "MEL_WINDOW_LENGTHS", "STFT_WINDOW_LENGTHS", "check_pair", "mel_distance", "stft_distance"]

MEL_WINDOW_LENGTHS = (32, 64, 128, 256, 512, 1024, 2048)
"""DAC ``MelSpectrogramLoss.window_lengths`` (samples); the hop is a quarter window."""
MEL_N_MELS = (5, 10, 20, 40, 80, 160, 320)
"""DAC ``MelSpectrogramLoss.n_mels``, one per window length."""
STFT_WINDOW_LENGTHS = (2048, 512)
"""DAC ``MultiScaleSTFTLoss.window_lengths`` (samples); the hop is a quarter window."""
CLAMP_EPS = 1e-5
"""DAC's floor on magnitudes before the log: keeps silence finite and bounds the penalty on near-silent bins."""


def check_pair(reference: np.ndarray, degraded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate an aligned pair: float32 ``[C, T]`` each, equal shapes, finite samples.

    Raises
    ------
    InvalidAudioError
        Empty, NaN/Inf, badly shaped audio, or shapes that differ (align the pair first).
    """
    ref = as_audio_array(reference)
    deg = as_audio_array(degraded)
    if ref.shape != deg.shape:
        raise InvalidAudioError(
            f"reference and degraded must have the same [C, T] shape, got {list(ref.shape)} and {list(deg.shape)}; "
            f"align them first with codec.evaluation.align"
        )
    return ref, deg


def stft_magnitude(audio: np.ndarray, window_length: int) -> np.ndarray:
    """``[C, T]`` -> float64 ``[C, frames, bins]`` magnitude, as audiotools/torch.stft compute it for DAC.

    Periodic Hann window, ``n_fft`` = window length, hop = window / 4, centred frames with reflect padding of half a
    window at each end, no normalisation.
    """
    hop = window_length // 4
    half = window_length // 2
    if audio.shape[1] <= half:
        # Reflect padding needs more samples than it pads; a window that long cannot describe such a short clip.
        raise InvalidAudioError(
            f"audio of {audio.shape[1]} samples is too short for a {window_length}-sample STFT; "
            f"spectral distances need more than {max(MEL_WINDOW_LENGTHS) // 2} samples"
        )
    padded = np.pad(audio.astype(np.float64), ((0, 0), (half, half)), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, window_length, axis=1)[:, ::hop]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(window_length) / window_length)
    return np.abs(np.fft.rfft(frames * window, axis=-1))


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3.0)
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / log_step, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * (200.0 / 3.0))


@functools.lru_cache(maxsize=64)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-style triangular mel filterbank from 0 Hz to Nyquist, float64 ``[n_mels, n_fft // 2 + 1]``.

    Band edges are equally spaced on the Slaney mel scale; each triangle is area-normalised (``2 / bandwidth_hz``),
    which is what librosa's ``filters.mel`` (and so audiotools and DAC) use by default. Bands narrower than one FFT
    bin come out empty, as they do in librosa.
    """
    fft_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    widths_hz = np.diff(edges_hz)
    offsets = edges_hz[:, np.newaxis] - fft_hz[np.newaxis, :]
    rising = -offsets[:-2] / widths_hz[:-1, np.newaxis]
    falling = offsets[2:] / widths_hz[1:, np.newaxis]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, np.newaxis]
    weights.setflags(write=False)
    return weights


def _log10_clamped(magnitude: np.ndarray, power: float) -> np.ndarray:
    return np.log10(np.maximum(magnitude, CLAMP_EPS) ** power)


def mel_distance(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Multi-scale mel distance of DAC (lower is better, 0 for identical signals).

    Definition: for each window length ``w`` in 32, 64, …, 2048 with ``n_mels`` 5, 10, …, 320, take the STFT
    magnitude ``|X|`` (periodic Hann, ``n_fft = w``, hop ``w / 4``, centred with reflect padding), the mel magnitude
    ``M = |X| @ F.T`` with the Slaney filterbank ``F`` (0 Hz to Nyquist, area-normalised) and add
    ``mean |log10(max(M_ref, 1e-5)) - log10(max(M_deg, 1e-5))|`` over channels, frames and bands. The result is the
    sum over the seven scales (DAC: ``pow=1``, ``log_weight=1``, ``mag_weight=0``, ``clamp_eps=1e-5``).

    The Slaney weights are about ``2 / bandwidth_hz``, so mel magnitudes of the short windows are small and the 1e-5
    floor is reached by quiet passages (and digital silence), as it is in DAC: noise added in a pause costs up to
    about 2-3 per cell there, much more than the same noise under loud content.

    Parameters
    ----------
    reference, degraded : np.ndarray
        ``[C, T]`` aligned signals of the same shape, ``T > 1024``.
    sample_rate : int
        Their common rate in Hz; it sets the filterbank, so distances are comparable only at equal rates.

    Returns
    -------
    float
        The distance, in log10-magnitude units summed over scales.
    """
    rate = check_sample_rate(sample_rate)
    ref, deg = check_pair(reference, degraded)
    total = 0.0
    for window_length, n_mels in zip(MEL_WINDOW_LENGTHS, MEL_N_MELS, strict=True):
        bank = mel_filterbank(rate, window_length, n_mels)
        ref_mel = stft_magnitude(ref, window_length) @ bank.T
        deg_mel = stft_magnitude(deg, window_length) @ bank.T
        total += float(np.mean(np.abs(_log10_clamped(ref_mel, 1.0) - _log10_clamped(deg_mel, 1.0))))
    return total


def stft_distance(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Multi-resolution STFT distance of DAC (lower is better, 0 for identical signals).

    Definition: for each window length ``w`` in 2048 and 512, take the STFT magnitude ``|X|`` as in
    :func:`mel_distance` and add ``mean |log10(max(|X_ref|, 1e-5)^2) - log10(max(|X_deg|, 1e-5)^2)|`` (log-power
    L1, weight 1) plus ``mean ||X_ref| - |X_deg||`` (magnitude L1, weight 1), means over channels, frames and bins
    (DAC ``MultiScaleSTFTLoss`` defaults: ``pow=2``, ``log_weight=1``, ``mag_weight=1``, ``clamp_eps=1e-5``).

    Parameters
    ----------
    reference, degraded : np.ndarray
        ``[C, T]`` aligned signals of the same shape, ``T > 1024``.
    sample_rate : int
        Their common rate in Hz (checked only: the windows are in samples, so they span different durations at
        different rates).

    Returns
    -------
    float
        The distance, summed over both resolutions.
    """
    check_sample_rate(sample_rate)
    ref, deg = check_pair(reference, degraded)
    total = 0.0
    for window_length in STFT_WINDOW_LENGTHS:
        ref_mag = stft_magnitude(ref, window_length)
        deg_mag = stft_magnitude(deg, window_length)
        total += float(np.mean(np.abs(_log10_clamped(ref_mag, 2.0) - _log10_clamped(deg_mag, 2.0))))
        total += float(np.mean(np.abs(ref_mag - deg_mag)))
    return total
