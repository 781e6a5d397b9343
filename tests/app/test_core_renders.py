"""Render requests, the render cache and the audition state (Qt-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.audition import AuditionState
from app.core.clip import Clip, load_clip
from app.core.errors import CancelledError, RenderError
from app.core.models import ModelCatalog, ModelEntry
from app.core.renders import RenderCache, RenderKey, RenderRequest, RenderService


class GainCodec:
    """A stand-in codec that halves the signal (and can misbehave on demand)."""

    name, sample_rate, channels, bitrates_kbps = "gain", 24_000, 1, (1.5, 6.0)

    def __init__(self, length_change: int = 0, fail: Exception | None = None, nan: bool = False) -> None:
        self.calls = 0
        self.length_change, self.fail, self.nan = length_change, fail, nan

    def reconstruct(self, audio: np.ndarray, sample_rate: int, bitrate_kbps: float, progress: Any = None) -> Any:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        if progress is not None:
            progress(1, 1)
        out = 0.5 * audio
        if self.length_change > 0:
            out = np.pad(out, ((0, 0), (0, self.length_change)), constant_values=1.0)
        elif self.length_change < 0:
            out = out[:, : self.length_change]
        if self.nan:
            out = out.copy()
            out[0, 0] = np.nan
        return out


def make_clip(length: int = 4800, seed: int = 0) -> Clip:
    audio = np.random.default_rng(seed).uniform(-0.5, 0.5, (1, length)).astype(np.float32)
    return Clip(Path(f"clip{seed}.wav"), audio, 24_000, sha256=f"hash{seed}")


def service_with(codec: Any) -> RenderService:
    catalog = ModelCatalog(lister=list, loader=lambda source: codec)
    catalog.register(ModelEntry("m", "Gain", "m", 24_000, 1, (1.5, 6.0)))
    return RenderService(catalog)


def test_render_returns_aligned_audio_and_caches_it() -> None:
    codec = GainCodec()
    service = service_with(codec)
    clip = make_clip()
    progress: list[float] = []
    result = service.render(RenderRequest(clip, "m", 6.0, 1), progress=lambda f, m: progress.append(f))
    np.testing.assert_allclose(result.audio, 0.5 * clip.audio)
    assert not result.from_cache and not result.audio.flags.writeable and progress[-1] == 1.0
    again = service.render(RenderRequest(clip, "m", 6.0, 2))
    assert again.from_cache and again.audio is result.audio and codec.calls == 1
    service.render(RenderRequest(clip, "m", 1.5, 3))
    assert codec.calls == 2 and len(service.cache) == 2


@pytest.mark.parametrize("change", [-100, 100])
def test_render_trims_or_pads_to_the_clip_length(change: int) -> None:
    clip = make_clip()
    result = service_with(GainCodec(length_change=change)).render(RenderRequest(clip, "m", 6.0))
    assert result.audio.shape == clip.audio.shape


def test_render_errors_are_render_errors() -> None:
    clip = make_clip()
    with pytest.raises(RenderError, match=r"offers 1\.5, 6 kbps"):
        service_with(GainCodec()).render(RenderRequest(clip, "m", 3.0))
    with pytest.raises(RenderError, match="codec failed: boom"):
        service_with(GainCodec(fail=ValueError("boom"))).render(RenderRequest(clip, "m", 6.0))
    with pytest.raises(RenderError, match="NaN"):
        service_with(GainCodec(nan=True)).render(RenderRequest(clip, "m", 6.0))


def test_render_stops_when_cancelled() -> None:
    codec = GainCodec()
    with pytest.raises(CancelledError):
        service_with(codec).render(RenderRequest(make_clip(), "m", 6.0), cancelled=lambda: True)
    assert codec.calls == 0


def test_cache_evicts_least_recently_used_beyond_its_size() -> None:
    cache = RenderCache(max_bytes=2 * 4000)
    keys = [RenderKey("c", "m", float(b)) for b in range(3)]
    for key in keys[:2]:
        cache.put(key, np.zeros(1000, np.float32))
    cache.get(keys[0])
    cache.put(keys[2], np.zeros(1000, np.float32))
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None and len(cache) == 2


def test_audition_state_accepts_only_the_pending_request_for_the_current_clip() -> None:
    service = service_with(GainCodec())
    state = AuditionState()
    assert not state.can_render
    state.set_clip(make_clip(seed=1))
    state.select("m", 6.0)
    first = state.new_request()
    second = state.new_request()  # supersedes the first
    assert second.request_id > first.request_id
    assert not state.accept(service.render(first))
    assert state.accept(service.render(second)) and state.reconstruction_is_current
    late = state.new_request()
    state.set_clip(make_clip(seed=2))  # a new clip: results for the old one are stale
    assert not state.accept(service.render(late)) and state.reconstruction is None
    state.select("m", 1.5)
    assert not state.reconstruction_is_current


def test_real_codec_render(random_checkpoint: Path, tone_file: Path) -> None:
    catalog = ModelCatalog(lister=list)
    entry = catalog.add_file(random_checkpoint)
    clip = load_clip(tone_file)
    result = RenderService(catalog).render(RenderRequest(clip, entry.model_id, 6.0))
    assert result.audio.shape == clip.audio.shape and result.audio.dtype == np.float32
    assert np.isfinite(result.audio).all() and result.elapsed_s > 0
