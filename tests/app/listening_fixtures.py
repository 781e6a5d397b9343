"""Small listening-test designs written into a temporary folder (shared by the test_listening_* files and the worker).

Imports only numpy, soundfile and yaml, so the durability worker stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import yaml

SAMPLE_RATE = 8000


def fake_anchor(audio: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """A stand-in anchor renderer (no codec/torch import): a scaled copy of the reference."""
    return (audio * np.float32(cutoff_hz / 10_000.0)).astype(np.float32)


def write_wav(path: Path, seed: int, duration_s: float = 0.05) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    samples = (0.1 * rng.standard_normal(int(duration_s * SAMPLE_RATE))).astype(np.float32)
    soundfile.write(str(path), samples, SAMPLE_RATE, subtype="FLOAT")
    return path.name


def design_mapping(
    folder: Path,
    test_type: str = "mushra",
    *,
    n_items: int = 2,
    conditions: tuple[str, ...] = ("c1", "c2"),
    options: dict[str, Any] | None = None,
    seed: int = 7,
    shared_audio: bool = False,
    duration_s: float = 0.05,
) -> dict[str, Any]:
    """A design mapping whose audio files exist under ``folder/audio`` (``shared_audio``: one file set for all
    items, so anchors render once)."""
    items = []
    for i in range(n_items):
        tag = "x" if shared_audio else str(i)
        ref = f"audio/ref_{tag}.wav"
        if not (folder / ref).exists():
            write_wav(folder / ref, seed=1000 + i, duration_s=duration_s)
        files = {}
        for j, cid in enumerate(conditions):
            rel = f"audio/{cid}_{tag}.wav"
            if not (folder / rel).exists():
                write_wav(folder / rel, seed=100 * i + j, duration_s=duration_s)
            files[cid] = rel
        items.append({"id": f"item{i:02d}", "reference": ref, "conditions": files})
    mapping: dict[str, Any] = {
        "format_version": 1,
        "id": f"test-{test_type}",
        "name": f"A {test_type} test",
        "type": test_type,
        "seed": seed,
        "conditions": {
            cid: {"label": f"Codec {cid}", "bitrate_kbps": 1.5 * (k + 1), "model": "encodec_24khz"}
            for k, cid in enumerate(conditions)
        },
        "items": items,
    }
    if options is not None:
        mapping[test_type] = options
    return mapping


def write_design(folder: Path, test_type: str = "mushra", **kwargs: Any) -> Path:
    """Write :func:`design_mapping` as ``folder/design.yaml`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "design.yaml"
    path.write_text(yaml.safe_dump(design_mapping(folder, test_type, **kwargs), sort_keys=False), encoding="utf-8")
    return path
