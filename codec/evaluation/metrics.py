"""Objective quality metrics on aligned reference/condition pairs (listening-tests issue 4, item 4).

Every metric takes ``reference`` and ``degraded`` as ``[C, T]`` arrays of the same shape at one ``sample_rate``:
align a decoded condition first with :func:`codec.evaluation.align`. A metric that cannot say anything about a pair
(PESQ on a clip without speech, SI-SDR against a silent reference, ...) raises :class:`MetricNotApplicableError`
with the reason; :func:`compute_metrics` turns that into a :class:`MetricValue` with ``value=None`` and the reason
as its note, so a results table shows why a cell is empty instead of a misleading number.

Metric names (the keys of :func:`compute_metrics` and :data:`HIGHER_IS_BETTER`): ``visqol``, ``mel_distance``,
``stft_distance``, ``si_sdr``, ``pesq``, ``stoi``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from codec.audio import check_sample_rate, resample
from codec.errors import CodecError, InvalidAudioError
from codec.evaluation.spectral import check_pair, mel_distance, stft_distance

if TYPE_CHECKING:
    import visqol

__all__ = ["ALL_METRICS", "HIGHER_IS_BETTER", "SI_SDR_LIMIT_DB", "Content", "MetricNotApplicableError", "MetricValue"]
__all__ += ["compute_metrics", "pesq_wb", "si_sdr_db", "stoi", "visqol_audio"]

Content = Literal["speech", "music", "unknown"]

ALL_METRICS = ("visqol", "mel_distance", "stft_distance", "si_sdr", "pesq", "stoi")
HIGHER_IS_BETTER = {
    "visqol": True,
    "mel_distance": False,
    "stft_distance": False,
    "si_sdr": True,
    "pesq": True,
    "stoi": True,
}
"""Whether a larger value of each metric means a better condition."""

SI_SDR_LIMIT_DB = 100.0
"""SI-SDR is clipped to ±100 dB: an identical copy gives +100 (instead of +inf), a silent one -100 (instead of NaN)."""
VISQOL_RATE_HZ = 48_000
"""ViSQOL's audio mode (SVR model) is defined at 48 kHz."""
SPEECH_RATE_HZ = 16_000
"""PESQ-WB and our STOI run at 16 kHz."""
_SPEECH_ONLY = ("pesq", "stoi")


class MetricNotApplicableError(CodecError):
    """A metric that says nothing about this pair (content it was not designed for, silence, too short a clip)."""


@dataclass(frozen=True)
class MetricValue:
    """One metric's result for one pair.

    Attributes
    ----------
    value : float or None
        The score, or None when the metric does not apply (``note`` says why).
    note : str or None
        Why the value is missing, or a caveat on it (e.g. PESQ on content not declared as speech).
    """

    value: float | None
    note: str | None = None


def si_sdr_db(reference: np.ndarray, degraded: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., "SDR - half-baked or well done?", 2019).

    Per channel, both signals are made zero-mean; with ``a = <d, r> / <r, r>`` the target is ``a r`` and the
    residual ``d - a r``, and ``SI-SDR = 10 log10(|a r|^2 / |d - a r|^2)``. Channels are averaged in dB.
    Values are clipped to ±:data:`SI_SDR_LIMIT_DB`: an identical (or rescaled) copy gives +100 dB, a silent
    degraded channel -100 dB. Channels whose reference is silent are left out of the average.

    Parameters
    ----------
    reference, degraded : np.ndarray
        ``[C, T]`` aligned signals of the same shape.

    Returns
    -------
    float
        SI-SDR in dB (higher is better); invariant to the gain of ``degraded``.

    Raises
    ------
    MetricNotApplicableError
        Every reference channel is silent (constant), so there is no signal to measure distortion against.
    """
    ref, deg = check_pair(reference, degraded)
    ref64 = ref.astype(np.float64) - ref.mean(axis=1, dtype=np.float64, keepdims=True)
    deg64 = deg.astype(np.float64) - deg.mean(axis=1, dtype=np.float64, keepdims=True)
    ref_energy = np.sum(ref64 * ref64, axis=1)
    active = ref_energy > 0.0
    if not active.any():
        raise MetricNotApplicableError("SI-SDR needs a reference that is not silent")
    scale = np.sum(deg64[active] * ref64[active], axis=1) / ref_energy[active]
    target = scale[:, np.newaxis] * ref64[active]
    residual = deg64[active] - target
    target_energy = np.sum(target * target, axis=1)
    residual_energy = np.sum(residual * residual, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_db = 10.0 * np.log10(target_energy / residual_energy)
    # No residual (a perfect copy) gives +inf, clipped to the limit; no target (a silent or orthogonal degraded
    # channel: nothing of the reference was recovered) gives -inf or 0/0, which we set to the lower limit.
    ratio_db = np.where(target_energy > 0.0, ratio_db, -SI_SDR_LIMIT_DB)
    return float(np.mean(np.clip(ratio_db, -SI_SDR_LIMIT_DB, SI_SDR_LIMIT_DB)))


def _mono_at(audio: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """``[C, T]`` -> float64 ``[T']`` channel average resampled (soxr VHQ) to ``target_rate``."""
    mono = audio.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    return resample(mono, sample_rate, target_rate)[0].astype(np.float64)


def _mono_pair(reference: np.ndarray, degraded: np.ndarray, sample_rate: int,
               target_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair and bring both to mono at ``target_rate``: what ViSQOL, PESQ and STOI each take."""
    rate = check_sample_rate(sample_rate)
    ref, deg = check_pair(reference, degraded)
    return _mono_at(ref, rate, target_rate), _mono_at(deg, rate, target_rate)


def _is_silent(audio: np.ndarray) -> bool:
    return not np.any(audio - audio.mean())


@functools.lru_cache(maxsize=1)
def _visqol_api() -> visqol.VisqolApi:
    # Imported here: visqol is slow to import (numba, scikit-learn model) and only this metric needs it.
    import visqol

    api = visqol.VisqolApi()
    api.create(mode="audio")
    return api


def visqol_audio(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """ViSQOL v3 audio mode MOS-LQO (visqol-python, bundled SVR model; about 1 … 4.73, higher is better).

    Both signals are mixed down to mono (channel average) and resampled with soxr VHQ to 48 kHz, the rate of the
    audio mode. The reference is used at its full band, never band-limited to the codec's: a 24 kHz codec (12 kHz
    audio band) pays for the octave it drops, as a listener on 48 kHz playback hears it. ViSQOL runs its own fine
    alignment on top of ours.

    Raises
    ------
    MetricNotApplicableError
        A silent reference or degraded signal, or a clip ViSQOL cannot analyse (shorter than about 0.5 s).
    """
    ref48, deg48 = _mono_pair(reference, degraded, sample_rate, VISQOL_RATE_HZ)
    if _is_silent(ref48):
        raise MetricNotApplicableError("ViSQOL needs a reference that is not silent")
    try:
        # A silent degraded signal makes ViSQOL divide by zero; it then returns NaN, which we report below.
        with np.errstate(all="ignore"):
            result = _visqol_api().measure_from_arrays(ref48, deg48, VISQOL_RATE_HZ)
    except (ValueError, IndexError, RuntimeError) as exc:
        raise MetricNotApplicableError(f"ViSQOL could not analyse this clip: {exc}") from None
    score = float(result.moslqo)
    if not np.isfinite(score):
        raise MetricNotApplicableError("ViSQOL returned no score for this pair (is the degraded signal silent?)")
    return score


def pesq_wb(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Wide-band PESQ (ITU-T P.862.2) MOS-LQO, on the channel average resampled to 16 kHz (about 1.04 … 4.64).

    Valid for speech only: the caller says whether the content is speech (see :func:`compute_metrics`).

    Raises
    ------
    MetricNotApplicableError
        PESQ finds no utterance (silence, noise) or the clip is too short for it.
    """
    import pesq

    ref16, deg16 = _mono_pair(reference, degraded, sample_rate, SPEECH_RATE_HZ)
    if _is_silent(ref16):
        raise MetricNotApplicableError("PESQ needs a reference with speech in it, this one is silent")
    try:
        return float(pesq.pesq(SPEECH_RATE_HZ, ref16, deg16, "wb"))
    except pesq.PesqError as exc:
        reason = f"{type(exc).__name__} {exc}".strip()
        raise MetricNotApplicableError(f"PESQ does not apply to this clip: {reason}") from None


def stoi(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011; pystoi), 0 … 1, higher is better.

    Computed on the channel average resampled to 16 kHz (pystoi then works at its own 10 kHz). Valid for speech only.

    Raises
    ------
    MetricNotApplicableError
        Fewer than 30 non-silent 25.6 ms frames (about 0.4 s of speech) remain after STOI drops silent frames.
    """
    import pystoi

    ref16, deg16 = _mono_pair(reference, degraded, sample_rate, SPEECH_RATE_HZ)
    if _is_silent(ref16):
        raise MetricNotApplicableError("STOI needs a reference with speech in it, this one is silent")
    with warnings.catch_warnings(record=True) as caught:
        # pystoi signals "too few frames" by a RuntimeWarning and a placeholder score of 1e-5, not an exception.
        warnings.simplefilter("always")
        score = float(pystoi.stoi(ref16, deg16, SPEECH_RATE_HZ, extended=False))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        raise MetricNotApplicableError("STOI needs at least about 0.4 s of non-silent speech")
    return score


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "visqol": visqol_audio,
    "mel_distance": mel_distance,
    "stft_distance": stft_distance,
    "si_sdr": lambda reference, degraded, _rate: si_sdr_db(reference, degraded),
    "pesq": pesq_wb,
    "stoi": stoi,
}


def compute_metrics(
    reference: np.ndarray,
    degraded: np.ndarray,
    sample_rate: int,
    content: Content = "unknown",
    metrics: Iterable[str] = ALL_METRICS,
) -> dict[str, MetricValue]:
    """Compute the named metrics for one aligned pair.

    Parameters
    ----------
    reference, degraded : np.ndarray
        ``[C, T]`` aligned signals of the same shape at ``sample_rate``.
    sample_rate : int
        Their common rate in Hz.
    content : {"speech", "music", "unknown"}
        What the clip holds, as the caller knows it (we do not guess). PESQ and STOI are speech metrics: for
        ``"music"`` they are not computed (value None, note "... applies to speech only"); for ``"unknown"`` they are
        computed with the note "valid for speech only".
    metrics : iterable of str
        Names from :data:`ALL_METRICS`, in the order wanted.

    Returns
    -------
    dict of str to MetricValue
        One entry per requested metric, in request order; a metric that does not apply has ``value=None``.

    Raises
    ------
    InvalidAudioError
        Bad audio, mismatched shapes, a bad rate, an unknown metric name or content kind.
    """
    if content not in ("speech", "music", "unknown"):
        raise InvalidAudioError(f"content must be 'speech', 'music' or 'unknown', got {content!r}")
    names = list(metrics)
    unknown = [name for name in names if name not in _METRICS]
    if unknown:
        raise InvalidAudioError(f"unknown metric(s) {unknown}; known: {list(ALL_METRICS)}")
    check_sample_rate(sample_rate)
    ref, deg = check_pair(reference, degraded)
    results: dict[str, MetricValue] = {}
    for name in names:
        label = "PESQ" if name == "pesq" else "STOI"
        if name in _SPEECH_ONLY and content == "music":
            results[name] = MetricValue(None, f"{label} applies to speech only")
            continue
        try:
            value = _METRICS[name](ref, deg, sample_rate)
        except MetricNotApplicableError as exc:
            results[name] = MetricValue(None, str(exc))
            continue
        note = f"{label} is valid for speech only" if name in _SPEECH_ONLY and content == "unknown" else None
        results[name] = MetricValue(value, note)
    return results
