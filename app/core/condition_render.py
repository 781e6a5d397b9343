"""Rendering one condition of a clip and measuring it: align, loudness deviation, true peak, metrics (Qt-free).

:meth:`ConditionRenderer.render` runs in a worker thread. Model conditions go through :class:`RenderService` (its
cache is keyed by clip hash, model and bitrate); Opus and MP3 through ``codec.baselines`` (cached on disk by
content); anchors are the BS.1534-3 low-pass filters. Every result is aligned with the original (the lag is
measured and removed), so switching gives no timing cue and the difference spectrogram shows only the codec.
Finished analyses are kept in memory by (clip hash, condition), so re-rendering an item is instant.

Metrics: mel distance and SI-SDR are cheap and computed with every render. ViSQOL (audio mode, 48 kHz) costs about
0.7 s per second of audio, so it is computed automatically only for clips up to :data:`VISQOL_AUTO_MAX_S`; for
longer clips the window offers it on demand.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.core.clip import Clip
from app.core.conditions import ANCHOR, LOSSY_KINDS, MODEL, ConditionAnalysis, ConditionSpec
from app.core.errors import CancelledError, EarBenchError, RenderError
from app.core.renders import ProgressCallback, RenderRequest, RenderService

CHEAP_METRICS = ("mel_distance", "si_sdr")
VISQOL = "visqol"
#: Clips up to this long get ViSQOL with every render; longer ones on demand.
VISQOL_AUTO_MAX_S = 20.0


def _never() -> bool:
    return False


def _ignore(fraction: float, message: str) -> None:
    pass


def _check(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise CancelledError("Render cancelled")


class ConditionRenderer:
    """Renders and analyses conditions of clips; thread-safe.

    Parameters
    ----------
    renders : RenderService
        Runs model conditions.
    lossy_cache_dir : Path, optional
        Disk cache of the reference codecs (``codec.baselines.default_cache_dir()`` when None).
    max_cached_bytes : int
        Bound on the in-memory cache of finished analyses.
    """

    def __init__(self, renders: RenderService, lossy_cache_dir: Path | None = None, max_cached_bytes: int = 1 << 30):
        self.renders = renders
        self.lossy_cache_dir = lossy_cache_dir
        self.max_cached_bytes = max_cached_bytes
        self._cache: OrderedDict[tuple[str, str], ConditionAnalysis] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, clip: Clip, spec: ConditionSpec) -> ConditionAnalysis | None:
        """The finished analysis of ``spec`` on ``clip`` if it is in memory."""
        with self._lock:
            return self._cache.get((clip.sha256, spec.cache_id))

    def render(
        self,
        clip: Clip,
        spec: ConditionSpec,
        cancelled: Callable[[], bool] = _never,
        progress: ProgressCallback = _ignore,
        metrics: Sequence[str] | None = None,
    ) -> ConditionAnalysis:
        """Render ``spec`` of ``clip``, align it and measure it.

        Parameters
        ----------
        metrics : sequence of str, optional
            Metrics to compute; by default the cheap ones, plus ViSQOL for clips up to ``VISQOL_AUTO_MAX_S``.

        Raises
        ------
        CancelledError
            ``cancelled()`` turned True.
        RenderError
            The codec, reference codec or model failed (the message is for the user).
        """
        hit = self.cached(clip, spec)
        if hit is not None:
            return replace(hit, from_cache=True, elapsed_s=0.0)
        started = time.perf_counter()
        audio, achieved, from_cache = self._render_audio(clip, spec, cancelled, progress)
        elapsed_s = 0.0 if from_cache else time.perf_counter() - started
        _check(cancelled)
        progress(0.9, f"Measuring {spec.label}…")
        analysis = analyse(clip, spec, audio, achieved, elapsed_s, from_cache)
        wanted = default_metrics(clip) if metrics is None else tuple(metrics)
        analysis = analysis.with_metrics(compute_metrics(clip, analysis.audio, wanted))
        _check(cancelled)
        self._store(clip, analysis)
        progress(1.0, "Done")
        return analysis

    def add_metrics(self, clip: Clip, analysis: ConditionAnalysis, names: Sequence[str]) -> ConditionAnalysis:
        """Compute more metrics for a finished analysis (e.g. ViSQOL on demand) and remember them."""
        updated = analysis.with_metrics(compute_metrics(clip, analysis.audio, names))
        self._store(clip, updated)
        return updated

    def _render_audio(
        self, clip: Clip, spec: ConditionSpec, cancelled: Callable[[], bool], progress: ProgressCallback
    ) -> tuple[np.ndarray, float | None, bool]:
        if spec.kind == MODEL:
            result = self.renders.render(RenderRequest(clip, spec.model_id or "", spec.value), cancelled, progress)
            return result.audio, result.achieved_kbps, result.from_cache
        _check(cancelled)
        progress(0.1, f"Rendering {spec.label}…")
        try:
            if spec.kind in LOSSY_KINDS:
                from codec.baselines import cached_encode_decode

                lossy = cached_encode_decode(clip.audio, clip.sample_rate, spec.kind, spec.value, self.lossy_cache_dir)
                return np.asarray(lossy.audio, dtype=np.float32), float(lossy.achieved_kbps), False
            if spec.kind == ANCHOR:
                from codec.baselines import lowpass_anchor

                return lowpass_anchor(clip.audio, clip.sample_rate, spec.value * 1000.0), None, False
        except EarBenchError:
            raise
        except Exception as exc:  # codec errors carry user-readable messages
            raise RenderError(f"{spec.label} failed: {exc}") from exc
        raise RenderError(f"Cannot render a {spec.kind!r} condition")

    def _store(self, clip: Clip, analysis: ConditionAnalysis) -> None:
        key = (clip.sha256, analysis.spec.cache_id)
        with self._lock:
            self._cache[key] = analysis
            self._cache.move_to_end(key)
            while len(self._cache) > 1 and sum(a.audio.nbytes for a in self._cache.values()) > self.max_cached_bytes:
                self._cache.popitem(last=False)


def analyse(
    clip: Clip,
    spec: ConditionSpec,
    audio: np.ndarray,
    achieved_kbps: float | None,
    elapsed_s: float = 0.0,
    from_cache: bool = False,
) -> ConditionAnalysis:
    """Align ``audio`` (float32 [C, T] at the clip's rate) with the clip and measure loudness and true peak."""
    from codec.evaluation.alignment import align
    from codec.evaluation.loudness import integrated_loudness_lufs, true_peak_dbtp

    try:
        aligned = align(clip.audio, audio, clip.sample_rate)
        reference_lufs = integrated_loudness_lufs(clip.audio, clip.sample_rate)
        condition_lufs = integrated_loudness_lufs(aligned.audio, clip.sample_rate)
        peak = true_peak_dbtp(aligned.audio, clip.sample_rate)
    except Exception as exc:
        raise RenderError(f"Cannot measure {spec.label}: {exc}") from exc
    deviation = condition_lufs - reference_lufs
    if math.isinf(reference_lufs) or math.isinf(condition_lufs):
        deviation = math.nan
    return ConditionAnalysis(
        spec=spec,
        audio=aligned.audio,
        achieved_kbps=achieved_kbps,
        lag_samples=aligned.lag_samples,
        sample_rate=clip.sample_rate,
        loudness_deviation_lu=float(deviation),
        true_peak_dbtp=float(peak),
        elapsed_s=elapsed_s,
        from_cache=from_cache,
    )


def default_metrics(clip: Clip) -> tuple[str, ...]:
    """Cheap metrics always; ViSQOL too for clips up to ``VISQOL_AUTO_MAX_S``."""
    return CHEAP_METRICS + ((VISQOL,) if clip.duration_s <= VISQOL_AUTO_MAX_S else ())


def compute_metrics(clip: Clip, audio: np.ndarray, names: Sequence[str]) -> dict[str, float | None]:
    """The named metrics of aligned ``audio`` [C, T] against the clip; None where one does not apply or fails."""
    from codec.evaluation.metrics import compute_metrics as codec_metrics

    values: dict[str, float | None] = {}
    for name in names:
        try:
            values[name] = codec_metrics(clip.audio, audio, clip.sample_rate, "music", [name])[name].value
        except Exception:  # too short for the metric's windows, or silent: show "—" rather than fail the render
            values[name] = None
    return values
