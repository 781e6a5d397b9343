"""Re-score saved checkpoints with a fuller validation than the one run during training, and pick the best.

During training, ViSQOL is computed on a few one-second validation crops to keep validation cheap, which makes it
noisy: two checkpoints a thousand steps apart can swap places by chance. This scores each checkpoint on more and
longer crops of the same validation split (never on the evaluation set), so the checkpoint that ships is chosen by
validation ViSQOL that means something.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import torch

from codec.config import ModelConfig
from codec.model.encodec import build_model
from codec.training.config import from_dict
from codec.training.data import TrainingCrops
from codec.training.state import load_state
from codec.training.validation import selection_score, validate


def validation_crops(config_dict: dict, items: int, segment_s: float) -> torch.Tensor:
    """``items`` validation crops ``[N, C, T]`` of ``segment_s`` seconds from the run's own validation split."""
    data = dataclasses.replace(from_dict(config_dict).data, valid_items=items, segment_s=segment_s)
    crops = TrainingCrops(data, "valid")
    return torch.stack([crops[i] for i in range(len(crops))])


def score_checkpoint(checkpoint: Path, clips: torch.Tensor, bitrates_kbps: Sequence[float]) -> dict[str, float]:
    """Validation metrics of a checkpoint's EMA weights (live weights without EMA), ViSQOL on every clip."""
    state = load_state(checkpoint)
    model = build_model(ModelConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["ema"] or state["model"])
    metrics = validate(model, clips, bitrates_kbps, visqol_clips=clips.shape[0])
    metrics["step"] = float(state["step"])
    return metrics


def select_best(
    checkpoints: Sequence[Path],
    items: int = 16,
    segment_s: float = 3.0,
    bitrates_kbps: Sequence[float] = (1.5, 6.0, 24.0),
    metric: str = "visqol",
) -> tuple[Path, list[tuple[Path, dict[str, float]]]]:
    """The best checkpoint by ``metric`` on the fuller validation, and every checkpoint's metrics in input order."""
    if not checkpoints:
        raise ValueError("no checkpoints to choose from")
    clips = validation_crops(load_state(checkpoints[0])["config"], items, segment_s)
    scored = [(path, score_checkpoint(path, clips, bitrates_kbps)) for path in checkpoints]
    best = max(scored, key=lambda pair: _finite(selection_score(pair[1], metric)))
    return best[0], scored


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf
