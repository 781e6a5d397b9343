"""Periodic validation with the evaluation metrics: mel distance, SI-SDR and ViSQOL on fixed held-out crops."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from codec.evaluation.metrics import MetricNotApplicableError, si_sdr_db, visqol_audio
from codec.evaluation.spectral import mel_distance
from codec.model.encodec import EncodecModel


@torch.no_grad()
def validate(model: EncodecModel, clips: torch.Tensor, bitrates_kbps: Sequence[float], visqol_clips: int,
             batch_size: int = 8) -> dict[str, float]:
    """Metrics of ``model`` on ``clips`` ``[N, C, T]`` at each bitrate, averaged over clips.

    Keys are ``mel_{b}``, ``sisdr_{b}`` and ``visqol_{b}`` for each bitrate ``b`` in kbps (ViSQOL on the first
    ``visqol_clips`` clips only: it is slow), plus ``mel``, ``sisdr`` and ``visqol``, the means over bitrates, which
    checkpoint selection uses. The model is put in eval mode (no codebook updates) and restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    results: dict[str, float] = {}
    try:
        for bitrate in bitrates_kbps:
            decoded = _reconstruct(model, clips, bitrate, batch_size, device)
            scores = _scores(clips.numpy(), decoded, model.sample_rate, visqol_clips)
            results.update({f"{name}_{bitrate:g}": value for name, value in scores.items()})
    finally:
        model.train(was_training)
    for name in ("mel", "sisdr", "visqol"):
        values = [v for k, v in results.items() if k.startswith(name + "_") and math.isfinite(v)]
        results[name] = float(np.mean(values)) if values else float("nan")
    return results


def _reconstruct(model: EncodecModel, clips: torch.Tensor, bitrate_kbps: float, batch_size: int,
                 device: torch.device) -> np.ndarray:
    outputs = []
    for start in range(0, clips.shape[0], batch_size):
        batch = clips[start : start + batch_size].to(device)
        decoded, _ = model(batch, bitrate_kbps)
        outputs.append(decoded.float().cpu())
    return torch.cat(outputs).numpy()


def _scores(reference: np.ndarray, decoded: np.ndarray, sample_rate: int, visqol_clips: int) -> dict[str, float]:
    mel = [mel_distance(r, d, sample_rate) for r, d in zip(reference, decoded, strict=True)]
    sisdr = [si_sdr_db(r, d) for r, d in zip(reference, decoded, strict=True)]
    visqol = []
    for r, d in zip(reference[:visqol_clips], decoded[:visqol_clips], strict=True):
        try:
            visqol.append(visqol_audio(r, d, sample_rate))
        except MetricNotApplicableError:
            continue
    return {
        "mel": float(np.mean(mel)),
        "sisdr": float(np.mean(sisdr)),
        "visqol": float(np.mean(visqol)) if visqol else float("nan"),
    }


def selection_score(metrics: dict[str, float], metric: str) -> float:
    """Higher is better: ViSQOL or SI-SDR as they are, mel distance negated; NaN when unavailable."""
    value = metrics.get(metric, float("nan"))
    if metric == "visqol" and not math.isfinite(value):
        value = -metrics.get("mel", float("nan"))
    elif metric == "mel":
        value = -value
    return value
