"""Loading and saving model weights: the official ``.th`` checkpoints and our safetensors format.

Our format is one ``.safetensors`` file: the tensors, plus the model config as JSON in the file's metadata, so a
model is rebuilt from the file alone. Official checkpoints are plain state dicts; they are read with
``torch.load(weights_only=True)``, which refuses pickled code, and their architecture is taken from the preset
their file name or key layout identifies.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from codec.config import PRESETS, ModelConfig
from codec.errors import CheckpointError, ModelNotFoundError
from codec.model import EncodecModel, build_model

FORMAT_VERSION = "1"
CONFIG_KEY = "earbench_config"
VERSION_KEY = "earbench_format"
OFFICIAL_FILES = {
    "encodec_24khz": "encodec_24khz-d7cc33bc.th",
    "encodec_48khz": "encodec_48khz-7e698e3e.th",
}
_OFFICIAL_NAME = re.compile(r"^(encodec_(?:24|48)khz)(?:-[0-9a-f]{8})?\.th$")
MAX_CHECKPOINT_BYTES = 2 * 1024**3


def torch_hub_checkpoint_dir() -> Path:
    """torch hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``), where official weights are cached."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_official_checkpoints(search_dir: Path | None = None) -> dict[str, Path]:
    """Official checkpoints present on disk: ``{"encodec_24khz": path, ...}`` (downloads nothing)."""
    folder = search_dir if search_dir is not None else torch_hub_checkpoint_dir()
    found: dict[str, Path] = {}
    for name, file_name in OFFICIAL_FILES.items():
        if (folder / file_name).is_file():
            found[name] = folder / file_name
    return found


def official_name_for(path: Path) -> str | None:
    """The official model name a file name carries (``encodec_24khz-d7cc33bc.th`` → ``encodec_24khz``)."""
    match = _OFFICIAL_NAME.match(path.name)
    return match.group(1) if match else None


def load_model(path: str | os.PathLike[str]) -> EncodecModel:
    """Load a model for inference from an official ``.th`` or our ``.safetensors`` file."""
    file = Path(path)
    if not file.is_file():
        raise ModelNotFoundError(f"no model file at {file}")
    if file.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{file} is larger than {MAX_CHECKPOINT_BYTES} bytes; refusing to load it")
    if file.suffix == ".safetensors":
        model = _load_safetensors(file)
    else:
        model = _load_official(file)
    return model.prepare_for_inference()


def save_model(
    model: EncodecModel,
    path: str | os.PathLike[str],
    provenance: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write ``model`` as one safetensors file with its config (and training provenance) in the metadata.

    ``half`` stores floating tensors as float16, which halves the file; loading casts them back to float32
    (the model always runs in float32), so encoder and decoder share the same rounded codebooks.
    """
    file = Path(path)
    config = model.config.to_dict()
    if provenance is not None:
        config["provenance"] = provenance
    state = {k: _stored(v, half) for k, v in model.state_dict().items()}
    metadata = {CONFIG_KEY: json.dumps(config), VERSION_KEY: FORMAT_VERSION}
    file.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(file), metadata=metadata)
    return file


def _stored(tensor: torch.Tensor, half: bool) -> torch.Tensor:
    tensor = tensor.detach().cpu()
    if half and tensor.is_floating_point():
        tensor = tensor.to(torch.float16)
    return tensor.contiguous()


def read_config(path: str | os.PathLike[str]) -> ModelConfig:
    """The config stored in a safetensors model file (cheap: reads only the header)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    if metadata.get(VERSION_KEY) != FORMAT_VERSION or CONFIG_KEY not in metadata:
        raise CheckpointError(f"{path} is not an EarBench model (format {FORMAT_VERSION} metadata missing)")
    try:
        data = json.loads(metadata[CONFIG_KEY])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: model config is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: model config must be a JSON object")
    return ModelConfig.from_dict(data)


def _load_safetensors(file: Path) -> EncodecModel:
    config = read_config(file)
    try:
        state = load_file(str(file))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{file}: cannot read tensors: {exc}") from exc
    return _model_with_state(config, state, file)


def read_torch_state_dict(file: Path) -> dict[str, torch.Tensor]:
    """A ``.th``/``.pt`` file's state dict, read with ``weights_only=True`` (pickled code is refused, never run).

    Raises :class:`CheckpointError` for anything but a dict of named tensors (or ``{"state_dict": ...}``).
    """
    if file.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{file} is larger than {MAX_CHECKPOINT_BYTES} bytes; refusing to load it")
    try:
        with warnings.catch_warnings():
            # torch warns about unusual pickle protocols before refusing them; our error says it all.
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(f"{file} is not a loadable weights file (code in pickles is refused): {exc}") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise CheckpointError(f"{file} does not hold a state dict of named tensors")
    return state


def _load_official(file: Path) -> EncodecModel:
    state = read_torch_state_dict(file)
    preset = official_name_for(file) or _preset_from_keys(state, file)
    config = PRESETS[preset]()
    return _model_with_state(config, state, file)


def _preset_from_keys(state: dict[str, torch.Tensor], file: Path) -> str:
    if "encoder.model.0.conv.conv.weight_g" in state:
        return "encodec_24khz"
    if "encoder.model.0.conv.norm.weight" in state:
        return "encodec_48khz"
    raise CheckpointError(f"{file}: key layout matches neither official EnCodec model")


def _model_with_state(config: ModelConfig, state: dict[str, torch.Tensor], file: Path) -> EncodecModel:
    model = build_model(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        summary = str(exc).splitlines()[0:3]
        raise CheckpointError(f"{file} does not match the {config.name} architecture: {' '.join(summary)}") from exc
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{file}: tensor {name} holds NaN or Inf values")
    return model
