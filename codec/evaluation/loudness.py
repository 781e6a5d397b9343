"""Loudness (ITU-R BS.1770-4 via pyloudnorm), true peak, and one shared gain per item (spec §4 items 6-7).

BS.1534-3 §7.1 asks for a fixed gain for all conditions of a trial: a level change caused by a codec is part of
what is rated, so :func:`match_loudness` computes ONE gain from the reference and applies it to the reference and
to every condition, never re-normalising a condition on its own. It reports how far each condition's loudness is
from the reference (LU) and its true peak after the gain, so clipping can be seen and the whole item lowered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pyloudnorm
from scipy import signal

from codec.audio import as_audio_array, check_sample_rate
from codec.errors import InvalidAudioError

__all__ = ["ConditionLoudness", "LoudnessPlan", "integrated_loudness_lufs", "match_loudness", "true_peak_dbtp"]

BLOCK_S = 0.4
"""BS.1770 gating block: clips shorter than this have no complete block and no integrated loudness."""
MAX_LOUDNESS_CHANNELS = 5
"""pyloudnorm weights L, R, C, Ls, Rs (1, 1, 1, 1.41, 1.41) and refuses more channels."""
TRUE_PEAK_OVERSAMPLING = 4
"""BS.1770-4 Annex 2: 4x oversampling is enough at 48 kHz; at higher rates it only over-samples more."""


def integrated_loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness per BS.1770-4 (K-weighting, 400 ms blocks, -70 LUFS / -10 LU gates).

    Parameters
    ----------
    audio : np.ndarray
        ``[C, T]`` (or ``[T]``), at most 5 channels in the order L, R, C, Ls, Rs. Mono is weighted as one channel,
        so a 997 Hz sine at -20 dBFS (peak 0.1) reads about -23.0 LUFS (pyloudnorm, like BS.1770, does not add
        the +3 dB some meters give mono for playback over two loudspeakers).
    sample_rate : int
        In Hz.

    Returns
    -------
    float
        LUFS. ``-inf`` for silence (every block below the absolute gate) and for clips shorter than 400 ms: they
        hold no complete gating block, so BS.1770 defines no integrated loudness for them. We return ``-inf``
        rather than zero-padding, since padding would silently under-read a short clip by ``10 log10(0.4 s / T)``.
    """
    samples = as_audio_array(audio)
    sample_rate = check_sample_rate(sample_rate)
    if samples.shape[0] > MAX_LOUDNESS_CHANNELS:
        raise InvalidAudioError(
            f"loudness needs at most {MAX_LOUDNESS_CHANNELS} channels (L, R, C, Ls, Rs), got {samples.shape[0]}"
        )
    if samples.shape[1] < BLOCK_S * sample_rate or not np.any(samples):
        return -math.inf
    meter = pyloudnorm.Meter(sample_rate)
    # pyloudnorm wants [T, C]; float64 keeps the K-weighting IIR filters precise.
    return float(meter.integrated_loudness(samples.T.astype(np.float64)))


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """True peak per BS.1770-4 Annex 2: the largest magnitude of the 4x oversampled signal, in dBTP.

    Parameters
    ----------
    audio : np.ndarray
        ``[C, T]`` (or ``[T]``).
    sample_rate : int
        In Hz (validated; the oversampling factor is the same at every rate).

    Returns
    -------
    float
        dB relative to full scale (1.0); never below the sample peak; ``-inf`` for silence. Computed in float, so
        the Annex's 12.04 dB pre-attenuation (headroom for integer arithmetic) is not needed.
    """
    samples = as_audio_array(audio).astype(np.float64)
    check_sample_rate(sample_rate)
    sample_peak = float(np.abs(samples).max())
    if sample_peak == 0.0:
        return -math.inf
    # A polyphase FIR interpolator (Kaiser-window, as BS.1770-4 Annex 2 sketches); the signal is zero outside.
    oversampled = signal.resample_poly(samples, TRUE_PEAK_OVERSAMPLING, 1, axis=-1)
    return 20.0 * math.log10(max(sample_peak, float(np.abs(oversampled).max())))


@dataclass(frozen=True, eq=False)
class ConditionLoudness:
    """One condition after the item's shared gain.

    Attributes
    ----------
    audio : np.ndarray
        float32 ``[C, T]``, the condition times the item gain.
    loudness_lufs : float
        Integrated loudness after the gain.
    deviation_lu : float
        ``loudness_lufs`` minus the reference's (after the same gain, so the gain cancels out); NaN when either
        is ``-inf`` (silent or shorter than 400 ms).
    true_peak_dbtp : float
        True peak after the gain.
    clips : bool
        True peak above 0 dBTP.
    """

    audio: np.ndarray
    loudness_lufs: float
    deviation_lu: float
    true_peak_dbtp: float
    clips: bool


@dataclass(frozen=True, eq=False)
class LoudnessPlan:
    """The item's shared gain and what it does to the reference and each condition.

    Attributes
    ----------
    gain_db : float
        The one gain applied to the reference and to every condition.
    target_lufs : float or None
        The requested reference loudness, or None (gain 0 dB).
    reference : ConditionLoudness
        The reference after the gain (``deviation_lu`` 0, or NaN when it has no measurable loudness).
    conditions : Mapping[str, ConditionLoudness]
        Per condition name, read-only.
    """

    gain_db: float
    target_lufs: float | None
    reference: ConditionLoudness
    conditions: Mapping[str, ConditionLoudness]

    @property
    def any_clipping(self) -> bool:
        """True when the reference or any condition has a true peak above 0 dBTP after the gain."""
        return self.reference.clips or any(c.clips for c in self.conditions.values())


def _deviation(loudness_lufs: float, reference_lufs: float) -> float:
    if math.isinf(loudness_lufs) or math.isinf(reference_lufs):
        return math.nan
    return loudness_lufs - reference_lufs


def _apply(audio: np.ndarray, gain: float, sample_rate: int, reference_lufs: float | None) -> ConditionLoudness:
    scaled = (audio.astype(np.float64) * gain).astype(np.float32)
    scaled.flags.writeable = False
    loudness = integrated_loudness_lufs(scaled, sample_rate)
    peak = true_peak_dbtp(scaled, sample_rate)
    deviation = _deviation(loudness, loudness if reference_lufs is None else reference_lufs)
    return ConditionLoudness(scaled, loudness, deviation, peak, peak > 0.0)


def match_loudness(
    reference: np.ndarray,
    conditions: Mapping[str, np.ndarray],
    sample_rate: int,
    target_lufs: float | None = None,
) -> LoudnessPlan:
    """One gain for the whole item, computed from the reference and applied to it and to every condition.

    Parameters
    ----------
    reference : np.ndarray
        ``[C, T]`` (or ``[T]``).
    conditions : Mapping[str, np.ndarray]
        Condition name -> ``[C', T']`` audio at ``sample_rate`` (already aligned; lengths may differ).
    sample_rate : int
        In Hz, shared by all signals.
    target_lufs : float, optional
        Loudness the reference is brought to (e.g. -23.0); ``None`` keeps the level (gain 0 dB).

    Returns
    -------
    LoudnessPlan
        The gain, the scaled signals, each condition's deviation from the reference in LU and its true peak.
        Clipping (true peak > 0 dBTP) is flagged, not fixed: lower ``target_lufs`` for the whole item.

    Raises
    ------
    InvalidAudioError
        Invalid audio or rate, or a ``target_lufs`` with a reference that is silent or shorter than 400 ms (there
        is no loudness to compute the gain from).
    """
    ref = as_audio_array(reference)
    sample_rate = check_sample_rate(sample_rate)
    reference_lufs = integrated_loudness_lufs(ref, sample_rate)
    if target_lufs is None:
        gain_db = 0.0
    else:
        if isinstance(target_lufs, bool) or not isinstance(target_lufs, (int, float)) or not math.isfinite(target_lufs):
            raise InvalidAudioError(f"target loudness must be a finite number of LUFS, got {target_lufs!r}")
        if math.isinf(reference_lufs):
            raise InvalidAudioError(
                "cannot bring the reference to a target loudness: it is silent or shorter than 400 ms"
            )
        gain_db = float(target_lufs) - reference_lufs
    gain = 10.0 ** (gain_db / 20.0)
    scaled_reference = _apply(ref, gain, sample_rate, None)
    scaled_reference_lufs = scaled_reference.loudness_lufs
    matched = {
        name: _apply(as_audio_array(audio), gain, sample_rate, scaled_reference_lufs)
        for name, audio in conditions.items()
    }
    return LoudnessPlan(
        gain_db=gain_db,
        target_lufs=None if target_lufs is None else float(target_lufs),
        reference=scaled_reference,
        conditions=MappingProxyType(matched),
    )
