"""Responsiveness of the audition workspace on a long file, against the raw codec doing the same work.

A 3-minute stereo 44.1 kHz file is synthesised (tones, chords and noise bursts), then timed:

1. *first spectrogram*: what the window's "load" job does before the original's spectrogram appears
   (``load_clip`` + ``peak_envelope`` + ``compute_spectrogram``);
2. *all bitrates through the app*: every bitrate of the model (1.5-24 kbps) through
   ``ConditionRenderer.render``, the function each workspace job runs (render with progress and cancellation checks,
   achieved bitrate, alignment, loudness deviation, true peak; cheap metrics optional), run through the app's
   ``JobRunner`` in a headless ``QCoreApplication`` as the window does;
3. *raw codec*: ``Codec.reconstruct`` for the same bitrates, nothing else.

The ratio (2) / (3) is the app's overhead. The model is the bundled one if ``resources/models/`` holds one, else a
random-weight 24 kHz model of the official size (same compute as a trained one).

Usage: ``python benchmarks/workspace_responsiveness.py [--seconds 180] [--metrics] [--out docs/benchmarks.md]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QEventLoop  # noqa: E402

from app.core.clip import load_clip  # noqa: E402
from app.core.condition_render import CHEAP_METRICS, ConditionRenderer  # noqa: E402
from app.core.conditions import model_condition  # noqa: E402
from app.core.models import ModelCatalog  # noqa: E402
from app.core.renders import RenderService  # noqa: E402
from app.core.spectrogram import compute_spectrogram  # noqa: E402
from app.core.waveform import peak_envelope  # noqa: E402
from app.workers import JobRunner  # noqa: E402

SAMPLE_RATE = 44_100


def synthesise(path: Path, seconds: float, seed: int = 0) -> Path:
    """Write a music-like stereo test file: a slow chord progression, a melody, and noise-burst 'drums'."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    root = 110.0 * 2 ** (np.floor(t / 2.0) % 4 * 5 / 12)
    chord = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.25, 1.5, 2.0)) / 4
    melody = 0.3 * np.sin(2 * np.pi * 440.0 * 2 ** (np.floor(t * 4) % 7 / 12) * t)
    hits = (np.mod(t, 0.5) < 0.03) * rng.normal(0, 0.3, t.size)
    left = 0.3 * chord + melody + hits
    right = 0.3 * chord + 0.7 * melody + hits
    sf.write(path, (0.5 * np.stack([left, right], axis=1)).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return path


def pick_model(folder: Path) -> tuple[str, str]:
    """(checkpoint path, description): the bundled model if there is one, else a random official-size 24 kHz one."""
    models = ROOT / "resources" / "models"
    bundled = sorted(p for p in models.glob("*") if p.suffix in (".th", ".safetensors")) if models.is_dir() else []
    if bundled:
        return str(bundled[0]), f"bundled model {bundled[0].name}"
    from codec.testing import random_codec_checkpoint

    path = random_codec_checkpoint(folder / "random_24khz.safetensors")
    return str(path), "random-weight 24 kHz model of the official size (no bundled model in resources/models/)"


def run_jobs(runner: JobRunner, jobs: list, loop: QEventLoop) -> None:  # type: ignore[type-arg]
    """Submit every job like the workspace does (one channel each) and spin the event loop until all are back."""
    left = {"n": len(jobs)}

    def done(_result: object) -> None:
        left["n"] -= 1
        if left["n"] == 0:
            loop.quit()

    def failed(exc: Exception) -> None:
        raise SystemExit(f"render failed: {exc}")

    for number, job in enumerate(jobs):
        runner.submit(f"condition:{number}", job, done, failed)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--metrics", action="store_true", help="also compute mel distance and SI-SDR per condition")
    parser.add_argument("--out", type=Path, help="append a Markdown section to this file")
    args = parser.parse_args()
    app = QCoreApplication.instance() or QCoreApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio_path = synthesise(folder / "long.flac", args.seconds)
        checkpoint, model_text = pick_model(folder)
        catalog = ModelCatalog(lister=list)
        entry = catalog.add_file(checkpoint)
        codec = catalog.codec(entry.model_id)

        started = time.perf_counter()
        clip = load_clip(audio_path)
        peak_envelope(clip.audio, clip.sample_rate)
        compute_spectrogram(clip.audio, clip.sample_rate)
        first_spectrogram_s = time.perf_counter() - started

        bitrates = entry.bitrates_kbps
        renderer = ConditionRenderer(RenderService(catalog), lossy_cache_dir=folder / "lossy")
        metrics = CHEAP_METRICS if args.metrics else ()
        jobs = [
            (lambda context, b=b: renderer.render(clip, model_condition(entry, b), context.cancelled,
                                                  context.progress, metrics))
            for b in bitrates
        ]
        runner = JobRunner()
        loop = QEventLoop()
        app_s = raw_s = 0.0
        # Alternate app and raw per bitrate, so background load on a shared machine hits both alike.
        for bitrate, job in zip(bitrates, jobs, strict=True):
            started = time.perf_counter()
            run_jobs(runner, [job], loop)
            app_s += time.perf_counter() - started
            started = time.perf_counter()
            codec.reconstruct(clip.audio, clip.sample_rate, bitrate)
            raw_s += time.perf_counter() - started
            print(f"{bitrate:g} kbps: app {app_s:.1f} s, raw {raw_s:.1f} s (cumulative)", flush=True)
        runner.shutdown()
    del app

    rates = ", ".join(f"{b:g}" for b in bitrates)
    lines = [
        f"- file: {args.seconds:g} s stereo {SAMPLE_RATE} Hz (synthesised); model: {model_text}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads default",
        f"- time to first spectrogram of the original (load + envelope + spectrogram): {first_spectrogram_s:.2f} s",
        f"- all of {rates} kbps through the app's render path (JobRunner + ConditionRenderer, align, loudness, "
        f"true peak{', mel + SI-SDR' if metrics else ''}): {app_s:.1f} s",
        f"- the same bitrates through Codec.reconstruct directly: {raw_s:.1f} s",
        f"- ratio app / raw codec: {app_s / raw_s:.2f}",
    ]
    print("\n".join(lines))
    if args.out is not None:
        stamp = datetime.date.today().isoformat()
        section = (
            f"\n\n## Workspace responsiveness ({stamp})\n\n"
            "`python benchmarks/workspace_responsiveness.py"
            f"{' --metrics' if metrics else ''} --out docs/benchmarks.md`\n\n" + "\n".join(lines) + "\n"
        )
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
