"""Training checkpoints that resume exactly: model, EMA, discriminators, optimisers, balancer, RNG and step.

Written atomically (temporary file, then rename) so a run killed while saving keeps its previous checkpoint.
Read with ``torch.load(weights_only=True)``: a checkpoint is data, never code.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from codec.errors import CheckpointError

FORMAT = "earbench-training/1"
LAST = "last.pt"
BEST = "best.pt"


def save_state(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the format tag) to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, temporary)
    os.replace(temporary, path)
    return path


def load_state(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a training checkpoint, refusing anything that is not one."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is not a readable training checkpoint: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an EarBench training checkpoint ({FORMAT})")
    return state


def rng_state() -> dict[str, Any]:
    """Torch's CPU and CUDA generator states (our own draws come from per-step seeded generators)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def generator_weights(path: Path) -> dict[str, torch.Tensor]:
    """The generator's state dict from a training checkpoint (EMA weights when it has them), for ``init_from``."""
    state = load_state(path)
    weights = state.get("ema") or state["model"]
    return {k: v for k, v in weights.items()}
