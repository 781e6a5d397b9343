"""What the About box and bug reports show: versions of the libraries doing the work, and the default model's origin.

Qt-free and sound-free: the Qt and PortAudio versions are added by the UI layer, which may import those.
"""

from __future__ import annotations

import importlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: (label, module) pairs whose ``__version__`` is reported.
VERSIONED_MODULES = (("torch", "torch"), ("NumPy", "numpy"), ("SciPy", "scipy"), ("soundfile", "soundfile"))
MODEL_CARD_NAME = "MODEL_CARD.md"
NOT_FOUND = "not found"


@dataclass(frozen=True)
class ModelSummary:
    """The shipped default model, described without loading its weights.

    Attributes
    ----------
    name : str
        The model's name (from its config).
    path : Path
        The model file.
    sample_rate : int
        Native rate in Hz.
    bitrates_kbps : tuple of float
        Bitrates it offers.
    provenance : dict
        Training provenance stored in the file (steps, data, date, ...); empty when absent.
    card_path : Path or None
        ``MODEL_CARD.md`` beside the file, when present.
    """

    name: str
    path: Path
    sample_rate: int
    bitrates_kbps: tuple[float, ...]
    provenance: dict[str, Any] = field(default_factory=dict)
    card_path: Path | None = None


def module_version(module_name: str) -> str:
    """``module.__version__``, or :data:`NOT_FOUND` when it cannot be imported."""
    try:
        module = importlib.import_module(module_name)
    except (ImportError, OSError):
        return NOT_FOUND
    return str(getattr(module, "__version__", "unknown"))


def libsndfile_version() -> str:
    """The libsndfile that soundfile loaded ("1.2.2"), or :data:`NOT_FOUND`."""
    try:
        import soundfile
    except (ImportError, OSError):
        return NOT_FOUND
    return str(soundfile.__libsndfile_version__)


def libopus_version() -> str:
    """The libopus the Opus reference condition uses ("libopus 1.3.1"), or :data:`NOT_FOUND`."""
    from codec.baselines.opus import libopus_version as codec_libopus_version

    return codec_libopus_version() or NOT_FOUND


def library_versions() -> list[tuple[str, str]]:
    """(label, version) rows for Python and the Qt-free libraries, in display order."""
    rows = [("Python", platform.python_version())]
    rows += [(label, module_version(module)) for label, module in VERSIONED_MODULES]
    rows.append(("libsndfile", libsndfile_version()))
    rows.append(("libopus", libopus_version()))
    return rows


def default_model(search_dirs: list[Path] | None = None) -> ModelSummary | None:
    """The first trained model found in the model folders (the shipped one unless the user installed others)."""
    from codec import CodecError, list_models
    from codec.checkpoint import read_config

    for info in list_models(search_dirs):
        if info.official:
            continue
        try:
            provenance = dict(read_config(info.path).provenance)
        except (CodecError, OSError):
            provenance = {}
        card = info.path.parent / MODEL_CARD_NAME
        return ModelSummary(
            info.name, info.path, info.sample_rate, info.bitrates_kbps, provenance, card if card.is_file() else None
        )
    return None


def describe_provenance(provenance: dict[str, Any], max_items: int = 8) -> list[tuple[str, str]]:
    """Up to ``max_items`` provenance entries as (key, short text) rows; nested values as compact JSON.

    A model trained in several runs (each started from the weights of the one before, ``init_from``) gets a first
    row, ``training``, with its whole history oldest first, instead of the nested record.
    """
    rows = []
    history = training_history(provenance)
    if len(history) > 1:
        rows.append(("training", " → ".join(history)))
        provenance = {key: value for key, value in provenance.items() if key != "init_from"}
    for key, value in list(provenance.items())[:max_items]:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        rows.append((str(key), text if len(text) <= 120 else text[:117] + "…"))
    return rows


def training_history(provenance: dict[str, Any]) -> list[str]:
    """One short text per training run, oldest first: "7,000 steps at batch 8 (2 CPU cores)"."""
    runs = []
    record: Any = provenance
    while isinstance(record, dict) and record and len(runs) < 16:  # a hostile file could nest without end
        runs.append(_describe_run(record))
        record = record.get("init_from")
    return runs[::-1]


def _describe_run(record: dict[str, Any]) -> str:
    steps = record.get("trained_steps")
    if not isinstance(steps, int):
        return str(record.get("file", "unknown weights"))
    text = f"{steps:,} steps"
    if isinstance(record.get("batch_size"), int):
        text += f" at batch {record['batch_size']}"
    if record.get("device"):
        text += f" ({record['device']})"
    return text
