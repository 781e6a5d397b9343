"""MUSHRA anchors for a design, rendered when a session starts and cached on disk.

The anchors are the BS.1534-3 §5.1 low-pass versions of each item's reference (3.5 kHz low anchor, 7 kHz mid anchor),
made by :mod:`codec.baselines.anchors` (mask-verified linear-phase FIR, zero time shift). They are rendered **at
session start** (not when a bundle is built), so a bundle only carries the design's own files and every machine makes
its anchors with its own, versioned code. The cache key is the reference file's SHA-256, the anchor id and
:data:`ANCHOR_RECIPE_VERSION`; files are written to a temporary name and renamed, so a crash never leaves a partial
anchor behind. ``codec`` (and with it torch) is imported only when an anchor actually has to be rendered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from app.core.clip import file_sha256
from app.core.listening.design import LOW_ANCHOR_ID, MID_ANCHOR_ID, TestDesign

ANCHOR_RECIPE_VERSION = 1
"""Bump when the anchor filter changes, so cached anchors are rendered again."""
ANCHOR_CUTOFFS_HZ = {LOW_ANCHOR_ID: 3500.0, MID_ANCHOR_ID: 7000.0}

#: Makes an anchor: (reference float32 [C, T], sample_rate, cutoff_hz) -> float32 [C, T].
AnchorRenderer = Callable[[np.ndarray, int, float], np.ndarray]


def anchor_recipe() -> dict[str, Any]:
    """How the anchors are made, stored with the test (BS.1534-3 §10.2 asks the report to describe them)."""
    return {
        "version": ANCHOR_RECIPE_VERSION,
        "anchors": {aid: {"lowpass_cutoff_hz": hz} for aid, hz in ANCHOR_CUTOFFS_HZ.items()},
        "code": "codec.baselines.anchors.lowpass_anchor",
        "filter": "linear-phase Kaiser-window FIR, 60 dB stopband design, (N - 1) / 2 delay removed",
        "standard": "ITU-R BS.1534-3 §5.1",
    }


def default_anchor_dir() -> Path:
    """``<user cache dir>/earbench/anchors``."""
    return Path(platformdirs.user_cache_dir("earbench", appauthor=False)) / "anchors"


def _codec_renderer(audio: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    from codec.baselines.anchors import lowpass_anchor  # torch comes with codec: import only when rendering

    return lowpass_anchor(audio, sample_rate, cutoff_hz)


def render_anchors(
    design: TestDesign, out_dir: Path | None = None, renderer: AnchorRenderer | None = None
) -> dict[str, dict[str, Path]]:
    """Anchor files of every item: ``{item_id: {"anchor_lp35": path, "anchor_lp70": path}}``.

    Existing cached files are reused; missing ones are rendered with ``renderer`` (default: the codec's
    mask-verified filter) from the reference, at the reference's sample rate and channel count.
    """
    out_dir = Path(out_dir) if out_dir is not None else default_anchor_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, dict[str, Path]] = {}
    for item in design.items:
        digest = file_sha256(item.reference)
        paths = {aid: out_dir / f"{digest[:32]}_{aid}_v{ANCHOR_RECIPE_VERSION}.wav" for aid in ANCHOR_CUTOFFS_HZ}
        missing = [aid for aid, path in paths.items() if not path.is_file()]
        if missing:
            _render(item.reference, {aid: paths[aid] for aid in missing}, renderer or _codec_renderer)
        result[item.id] = paths
    return result


def _render(reference: Path, targets: dict[str, Path], renderer: AnchorRenderer) -> None:
    import soundfile

    samples, sample_rate = soundfile.read(str(reference), dtype="float32", always_2d=True)
    audio = np.ascontiguousarray(samples.T)  # [T, C] -> [C, T]
    for aid, path in targets.items():
        anchor = np.asarray(renderer(audio, int(sample_rate), ANCHOR_CUTOFFS_HZ[aid]), dtype=np.float32)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        soundfile.write(str(tmp), anchor.T, int(sample_rate), subtype="FLOAT", format="WAV")
        os.replace(tmp, path)
