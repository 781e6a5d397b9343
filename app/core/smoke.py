"""The work of ``earbench --smoke-test``: open a clip and render one condition through the app's render path.

Used to check a build (frozen or not) end to end without a display or a sound card. It renders with the default
trained model when one is installed; without one it writes a random-weight model to a scratch folder, because
the point is to exercise torch and the codec inside the build, not to judge quality (the model is labelled
untrained and only the smoke test ever uses it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.clip import load_clip
from app.core.models import ModelCatalog, ModelEntry
from app.core.renders import RenderRequest, RenderService

SCRATCH_MODEL_NAME = "smoke_random_24khz.safetensors"
#: Shared libraries loaded through ctypes/cffi, whose origin the smoke report shows.
WATCHED_LIBRARIES = ("portaudio", "opus", "sndfile")


@dataclass(frozen=True)
class SmokeReport:
    """What one smoke render did; ``as_dict`` is printed as JSON by the app."""

    clip: str
    clip_duration_s: float
    model: str
    model_trained: bool
    bitrate_kbps: float
    render_s: float
    output_rms: float
    libraries: tuple[tuple[str, str], ...]
    shared_libraries: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {
            "clip": self.clip,
            "clip_duration_s": round(self.clip_duration_s, 3),
            "model": self.model,
            "model_trained": self.model_trained,
            "bitrate_kbps": self.bitrate_kbps,
            "render_s": round(self.render_s, 3),
            "output_rms": self.output_rms,
            "libraries": dict(self.libraries),
            "shared_libraries": dict(self.shared_libraries),
        }


def _never() -> bool:
    return False


def smoke_model(catalog: ModelCatalog, scratch_dir: Path) -> ModelEntry:
    """The first trained model on offer, else a random-weight model written to ``scratch_dir`` (smoke tests only)."""
    entries = catalog.refresh()
    if entries:
        return entries[0]
    from codec.testing import random_codec_checkpoint

    scratch_dir.mkdir(parents=True, exist_ok=True)
    return catalog.add_file(random_codec_checkpoint(scratch_dir / SCRATCH_MODEL_NAME))


def run_smoke_render(
    clip_path: Path,
    catalog: ModelCatalog,
    renders: RenderService,
    scratch_dir: Path,
    libraries: list[tuple[str, str]],
    cancelled: Callable[[], bool] | None = None,
) -> SmokeReport:
    """Load ``clip_path`` and render it at the model's default bitrate; raises on any failure.

    Raises
    ------
    RuntimeError
        A library in ``libraries`` is reported as not found, or the render is not finite audio of the clip's shape.
    """
    missing = [label for label, version in libraries if version == "not found"]
    if missing:
        raise RuntimeError(f"libraries not found: {', '.join(missing)}")
    clip = load_clip(clip_path)
    entry = smoke_model(catalog, scratch_dir)
    start = time.perf_counter()
    request = RenderRequest(clip, entry.model_id, entry.default_bitrate_kbps)
    result = renders.render(request, cancelled or _never)
    render_s = time.perf_counter() - start
    audio = np.asarray(result.audio)
    if audio.shape != clip.audio.shape or not np.all(np.isfinite(audio)):
        raise RuntimeError(f"render gave {audio.shape} (finite: {np.all(np.isfinite(audio))}), not {clip.audio.shape}")
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return SmokeReport(
        clip=clip.name,
        clip_duration_s=clip.duration_s,
        model=entry.display_name,
        model_trained=entry.trained is not False,
        bitrate_kbps=entry.default_bitrate_kbps,
        render_s=render_s,
        output_rms=round(rms, 6) if math.isfinite(rms) else rms,
        libraries=tuple(libraries),
        shared_libraries=tuple(loaded_shared_libraries().items()),
    )


def loaded_shared_libraries(names: tuple[str, ...] = WATCHED_LIBRARIES) -> dict[str, str]:
    """Where this process loaded each watched library from (Linux ``/proc/self/maps``; empty elsewhere).

    Lets the smoke test check that a frozen build uses the PortAudio and libopus it bundles.
    """
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        file_name = Path(path).name
        for name in names:
            if file_name.startswith((f"lib{name}.so", f"lib{name}_")) and name not in found:
                found[name] = path
    return found
