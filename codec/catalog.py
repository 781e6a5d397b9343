"""Finding models on this machine: official checkpoints in torch hub's folder and our own model files.

Nothing here downloads anything. A model is found by path, by official name (``encodec_24khz``), or by the name in
its config among the model folders: ``$EARBENCH_MODEL_PATH`` (``os.pathsep``-separated), the user's data folder,
and the ``resources/models`` folder that ships with EarBench.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from codec.checkpoint import OFFICIAL_FILES, find_official_checkpoints, official_name_for, read_config
from codec.config import PRESETS, ModelConfig
from codec.errors import CheckpointError, ModelNotFoundError

MODEL_PATH_ENV = "EARBENCH_MODEL_PATH"
DEFAULT_MODEL = "earbench_24khz"
"""The model EarBench ships in ``resources/models`` (trained by us; see its MODEL_CARD.md): the CLI's default."""


@dataclass(frozen=True)
class ModelInfo:
    """A model file found on disk, described without loading its weights."""

    name: str
    path: Path
    sample_rate: int
    channels: int
    bitrates_kbps: tuple[float, ...]
    trained: bool
    official: bool


def model_dirs() -> list[Path]:
    """Folders searched for our model files, in priority order."""
    dirs = [Path(p) for p in os.environ.get(MODEL_PATH_ENV, "").split(os.pathsep) if p]
    dirs.append(Path(platformdirs.user_data_dir("earbench")) / "models")
    dirs.append(Path(__file__).resolve().parent.parent / "resources" / "models")
    return dirs


def describe(path: Path) -> ModelInfo:
    """A :class:`ModelInfo` for one model file (reads only headers)."""
    official = official_name_for(path)
    if official is not None:
        return _info(PRESETS[official](), path, trained=True, official=True)
    config = read_config(path)
    trained = not config.provenance.get("random_init", False)
    return _info(config, path, trained=trained, official=False)


def _info(config: ModelConfig, path: Path, trained: bool, official: bool) -> ModelInfo:
    return ModelInfo(config.name, path, config.sample_rate, config.channels, config.bitrates_kbps, trained, official)


def list_models(search_dirs: list[Path] | None = None, hub_dir: Path | None = None) -> list[ModelInfo]:
    """Every trained model installed on this machine: official checkpoints first, then ours by folder order.

    Files that cannot be described (corrupt, foreign) and random-weight test models are left out.
    """
    found = [describe(path) for path in find_official_checkpoints(hub_dir).values()]
    seen = {info.name for info in found}
    for folder in search_dirs if search_dirs is not None else model_dirs():
        for path in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
            try:
                info = describe(path)
            except CheckpointError:
                continue
            if info.trained and info.name not in seen:
                found.append(info)
                seen.add(info.name)
    return found


def resolve_model(name_or_path: str | os.PathLike[str], search_dirs: list[Path] | None = None,
                  hub_dir: Path | None = None) -> Path:
    """The file for a model path or name; raises :class:`ModelNotFoundError` explaining where it looked."""
    candidate = Path(name_or_path)
    if candidate.is_file():
        return candidate
    name = str(name_or_path)
    official = find_official_checkpoints(hub_dir)
    if name in official:
        return official[name]
    for info in list_models(search_dirs, hub_dir):
        if info.name == name or info.path.stem == name:
            return info.path
    if name in OFFICIAL_FILES:
        folder = hub_dir if hub_dir is not None else Path("~/.cache/torch/hub/checkpoints")
        raise ModelNotFoundError(
            f"the official {name} weights are not on this machine: put {OFFICIAL_FILES[name]} in {folder} "
            f"or give the file's path"
        )
    known = ", ".join(info.name for info in list_models(search_dirs, hub_dir)) or "none installed"
    raise ModelNotFoundError(f"no model file or installed model named {name!r} (installed: {known})")
