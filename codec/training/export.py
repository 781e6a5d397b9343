"""Export a trained generator to the safetensors model format that the app and the CLI load."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from codec.checkpoint import read_config, save_model
from codec.config import ModelConfig
from codec.errors import CodecError
from codec.model.encodec import EncodecModel, build_model
from codec.training.state import load_state

# How many earlier runs a model file describes: a checkpoint whose ``init_from`` names itself (a run restarted
# from its own last.pt) would otherwise be followed for ever.
MAX_HISTORY = 8


def provenance(config: dict[str, Any], step: int, world_size: int = 1, depth: int = 0) -> dict[str, Any]:
    """What a model file records about how it was trained (read by the catalog and model cards).

    A run started from other weights (``init_from``) records them under ``init_from``, with their own provenance
    when the file can still be read, so a model trained in several sittings keeps its whole history.
    """
    data = config.get("data", {})
    record = {"trained_steps": step, "batch_size": config.get("batch_size"), "world_size": world_size,
              "segment_s": data.get("segment_s"), "data": data.get("manifest"), "seed": config.get("seed")}
    if config.get("init_from"):
        record["init_from"] = source_provenance(Path(config["init_from"]), depth + 1)
    return record


def source_provenance(path: Path, depth: int = 1) -> dict[str, Any]:
    """The file name of the weights a run started from and, when it is still readable, their provenance."""
    record: dict[str, Any] = {"file": path.name}
    if depth > MAX_HISTORY:
        return record
    try:
        if path.suffix == ".safetensors":
            record.update(read_config(path).provenance)
        else:
            state = load_state(path)
            record.update(provenance(state["config"], int(state["step"]), depth=depth))
    except (OSError, ValueError, KeyError, CodecError):
        pass  # gone with a lent machine's scratch folder, say: the name is all that is left
    return record


def export_model(
    model: EncodecModel, output: Path, config: dict[str, Any], step: int, world_size: int = 1, half: bool = False
) -> Path:
    return save_model(model, output, provenance=provenance(config, step, world_size), half=half)


def export_checkpoint(checkpoint: Path, output: Path, name: str | None = None, half: bool = False) -> Path:
    """The EMA weights of a training checkpoint (or its live weights without EMA) as a model file.

    ``name`` replaces the model name in the config: the name ``.ecdc`` headers carry and the catalog finds.
    ``half`` stores the weights in float16 (half the size; see :func:`codec.checkpoint.save_model`).
    """
    state = load_state(checkpoint)
    config = ModelConfig.from_dict(state["model_config"])
    if name is not None:
        config = dataclasses.replace(config, name=name)
    model = build_model(config)
    model.load_state_dict(state["ema"] or state["model"])
    return export_model(model, output, state["config"], int(state["step"]), half=half)
