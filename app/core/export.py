"""Saving what the workspace shows: a condition as WAV/FLAC, a neural condition's ``.ecdc`` stream, the table as CSV.

``.ecdc`` streams are written by ``codec.ecdc.write_ecdc`` from a fresh ``Codec.encode`` of the clip at the
condition's bitrate (encoding is deterministic, so the stream decodes to the audio heard).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from app.core.clip import Clip
from app.core.errors import EarBenchError, ModelLoadError
from app.core.models import ModelCatalog

AUDIO_SUFFIXES = {".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24")}


class ExportError(EarBenchError):
    """A file could not be written; the message is for the user."""


def write_audio(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int) -> Path:
    """Write float32 [C, T] audio as 32-bit float WAV or 24-bit FLAC (chosen by the suffix; FLAC clips at ±1)."""
    target = Path(path)
    format_subtype = AUDIO_SUFFIXES.get(target.suffix.lower())
    if format_subtype is None:
        raise ExportError(f"Save audio as .wav or .flac, not {target.suffix or 'no suffix'}")
    samples = np.asarray(audio, dtype=np.float32).T
    if format_subtype[0] == "FLAC":
        samples = np.clip(samples, -1.0, 1.0)
    try:
        sf.write(target, samples, sample_rate, subtype=format_subtype[1], format=format_subtype[0])
    except (OSError, sf.LibsndfileError) as exc:
        raise ExportError(f"Cannot write {target.name}: {exc}") from exc
    return target


def write_ecdc(
    path: str | os.PathLike[str], clip: Clip, catalog: ModelCatalog, model_id: str, bitrate_kbps: float
) -> float:
    """Encode ``clip`` with the model at ``bitrate_kbps`` and write the ``.ecdc`` stream; returns its kbps.

    Slow (runs the encoder): call from a worker.
    """
    from codec import ecdc

    try:
        codec = catalog.codec(model_id)
    except ModelLoadError as exc:
        raise ExportError(f"Cannot load the model: {exc}") from exc
    encode = getattr(codec, "encode", None)
    if not callable(encode):
        raise ExportError(f"{codec.name} cannot write .ecdc streams")
    try:
        encoded = encode(clip.audio, clip.sample_rate, bitrate_kbps)
        with open(path, "wb") as handle:
            ecdc.write_ecdc(handle, encoded)
    except OSError as exc:
        raise ExportError(f"Cannot write {Path(path).name}: {exc}") from exc
    return float(encoded.bitrate_kbps)


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """Write a header and rows as UTF-8 CSV."""
    target = Path(path)
    try:
        with open(target, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise ExportError(f"Cannot write {target.name}: {exc}") from exc
    return target
