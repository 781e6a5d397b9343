"""Audio arrays: validation, sample-rate checks, resampling and channel conversion.

Everything here works on NumPy arrays ``[C, T]`` (channels first, float32 in [-1, 1]), with soxr for resampling.
Every problem a user can cause raises :class:`InvalidAudioError` with a message that names the problem.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import soxr
from numpy.typing import ArrayLike

from codec.errors import InvalidAudioError

__all__ = ["MAX_CHANNELS", "MAX_SAMPLE_RATE", "as_audio_array", "check_sample_rate", "convert_channels", "resample"]

MAX_CHANNELS = 64
MAX_SAMPLE_RATE = 768_000


def _describe_non_finite(samples: np.ndarray) -> str | None:
    """None when all samples are finite, else a sentence counting NaN/Inf and locating the first one."""
    bad = ~np.isfinite(samples)
    if not bad.any():
        return None
    num_nan = int(np.isnan(samples).sum())
    num_inf = int(bad.sum()) - num_nan
    channel, sample = divmod(int(np.argmax(bad.reshape(-1))), samples.shape[1])
    where = f"first at channel {channel}, sample {sample}"
    return f"audio contains {num_nan} NaN and {num_inf} infinite sample(s) ({where}); all samples must be finite"


def _to_float32(samples: np.ndarray) -> np.ndarray:
    """Any real numeric array -> float32; integer PCM is scaled to [-1, 1)."""
    kind = samples.dtype.kind
    if kind == "f":
        message = _describe_non_finite(samples)
        if message:
            raise InvalidAudioError(message)
        if samples.dtype.itemsize > 4 and np.abs(samples).max() > np.finfo(np.float32).max:
            raise InvalidAudioError("audio has sample values too large for float32")
        return samples.astype(np.float32, copy=False)
    if kind in "iu":
        full_scale = 2.0 ** (8 * samples.dtype.itemsize - 1)
        offset = full_scale if kind == "u" else 0.0
        return ((samples.astype(np.float64) - offset) / full_scale).astype(np.float32)
    raise InvalidAudioError(f"audio must hold real numbers (float or integer PCM), got dtype {samples.dtype}")


def as_audio_array(audio: ArrayLike) -> np.ndarray:
    """Validate audio and return it as float32 C-contiguous ``[C, T]``.

    Parameters
    ----------
    audio : array_like
        ``[T]`` (mono) or ``[C, T]`` samples. The shape is taken as given: a ``[T, C]`` array is not transposed.
        Float samples are kept as they are; integer PCM (``int16``, ``uint8``, ...) is scaled to [-1, 1).

    Returns
    -------
    np.ndarray
        float32 ``[C, T]``; the input itself when it already is one.

    Raises
    ------
    InvalidAudioError
        Empty audio, a shape other than 1-D/2-D, more than 64 channels, NaN/Inf samples or a non-numeric dtype.
    """
    try:
        samples = np.asarray(audio)
    except (ValueError, TypeError) as exc:
        raise InvalidAudioError(f"audio is not a rectangular numeric array: {exc}") from None
    if samples.ndim not in (1, 2):
        raise InvalidAudioError(
            f"audio must be [T] or [C, T], got {samples.ndim} dimension(s) with shape {samples.shape}"
        )
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    num_channels, num_samples = samples.shape
    if num_channels == 0 or num_samples == 0:
        raise InvalidAudioError(f"audio is empty: shape [C, T] = {list(samples.shape)}")
    if num_channels > MAX_CHANNELS:
        raise InvalidAudioError(
            f"audio has {num_channels} channels, more than {MAX_CHANNELS}; arrays are read as [C, T], "
            f"so transpose a [T, C] array first"
        )
    if samples.dtype.kind not in "fiu":
        raise InvalidAudioError(f"audio must hold real numbers (float or integer PCM), got dtype {samples.dtype}")
    return np.ascontiguousarray(_to_float32(samples))


def check_sample_rate(sample_rate: Any, name: str = "sample rate") -> int:
    """``sample_rate`` as an ``int`` in Hz, checked to lie in 1..``MAX_SAMPLE_RATE``; ``name`` goes in the message.

    Raises
    ------
    InvalidAudioError
        Not an integer (``bool`` included) or out of range.
    """
    try:
        if isinstance(sample_rate, bool):
            raise TypeError
        rate = operator.index(sample_rate)
    except TypeError:
        raise InvalidAudioError(f"{name} must be an integer in Hz, got {sample_rate!r}") from None
    if not 1 <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(f"{name} must be between 1 Hz and {MAX_SAMPLE_RATE} Hz, got {rate} Hz")
    return rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``[C, T]`` audio with soxr at very high quality.

    Returns
    -------
    np.ndarray
        float32 ``[C, T']`` with ``T' = round(T * to_rate / from_rate)``; the validated input when the rates match.
    """
    from_rate = check_sample_rate(from_rate, "source sample rate")
    to_rate = check_sample_rate(to_rate, "target sample rate")
    samples = as_audio_array(audio)
    if from_rate == to_rate:
        return samples
    frames = np.ascontiguousarray(samples.T)
    resampled = soxr.resample(frames, from_rate, to_rate, quality="VHQ")
    return np.ascontiguousarray(resampled.reshape(-1, samples.shape[0]).T, dtype=np.float32)


def convert_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Convert ``[C, T]`` audio to ``channels`` channels.

    Mono becomes N channels by repetition, N channels become mono by averaging; equal counts pass through.

    Raises
    ------
    InvalidAudioError
        For any other conversion (e.g. 6 -> 2), or a channel count outside 1..64.
    """
    samples = as_audio_array(audio)
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudioError(f"channel count must be an integer in 1..{MAX_CHANNELS}, got {channels!r}")
    channels = int(channels)
    source = samples.shape[0]
    if source == channels:
        return samples
    if source == 1:
        return np.repeat(samples, channels, axis=0)
    if channels == 1:
        return samples.mean(axis=0, keepdims=True, dtype=np.float32)
    raise InvalidAudioError(
        f"cannot convert {source} channels to {channels}: supported are mono to any count, any count to mono, "
        f"and equal counts"
    )
