"""Audio of one listening-test page, made ready for the playback engine: one rate, one length, one channel count.

The engine switches between sources at a shared sample index, so every signal of a page (open reference and blind
stimuli) must have the same shape. Stimuli are rendered and loudness-aligned before a test (bundles ship them that
way); this module only reads them, resamples a file whose rate differs from the reference's (soxr VHQ, never the
reference itself: spec §4.5), repeats mono to the page's channel count and pads short files with silence. No gain
is ever applied here: the level is locked by the files (BS.1534-3 §7.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from app.core.errors import ClipLoadError


@dataclass(frozen=True)
class PageAudio:
    """The sources of a page in the engine's layout: float32 ``[T, C]`` arrays of one shape, at ``sample_rate``."""

    sources: tuple[np.ndarray, ...]
    sample_rate: int

    @property
    def num_samples(self) -> int:
        """Length T of every source."""
        return int(self.sources[0].shape[0]) if self.sources else 0

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate if self.sample_rate else 0.0


def _read(path: Path) -> tuple[np.ndarray, int]:
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise ClipLoadError(f"Cannot read the stimulus {path.name}: {exc}") from exc
    if samples.shape[0] == 0:
        raise ClipLoadError(f"The stimulus {path.name} holds no audio")
    if not np.isfinite(samples).all():
        raise ClipLoadError(f"The stimulus {path.name} contains NaN or infinite samples")
    return samples, int(rate)


def load_page_audio(paths: Sequence[Path]) -> PageAudio:
    """Read ``paths`` (the first one sets the rate: the reference) into sources of one shape ``[T, C]``.

    Raises :class:`~app.core.errors.ClipLoadError` for an unreadable file, and when files have incompatible
    channel counts (other than mono next to multichannel).
    """
    if not paths:
        raise ValueError("a page needs at least one stimulus")
    decoded = [_read(Path(p)) for p in paths]
    rate = decoded[0][1]
    arrays = [a if r == rate else soxr.resample(a, r, rate, quality="VHQ").astype(np.float32) for a, r in decoded]
    channels = max(a.shape[1] for a in arrays)
    length = max(a.shape[0] for a in arrays)
    out = []
    for path, array in zip(paths, arrays, strict=True):
        if array.shape[1] not in (1, channels):
            raise ClipLoadError(f"The stimulus {Path(path).name} has {array.shape[1]} channels, others {channels}")
        frames = np.zeros((length, channels), dtype=np.float32)
        frames[: array.shape[0]] = array  # mono broadcasts to every channel
        out.append(frames)
    return PageAudio(tuple(out), rate)
