"""Finding and loading the official LM checkpoints (``encodec_lm_24khz-1608e3c0.th``, ``encodec_lm_48khz-...``).

Nothing is downloaded: the files are looked for next to the model's file and in torch hub's checkpoint folder,
where encodec's own downloads land. They are read with ``torch.load(weights_only=True)`` and loaded strictly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from codec.checkpoint import read_torch_state_dict, torch_hub_checkpoint_dir
from codec.errors import CheckpointError, ModelNotFoundError
from codec.lm.model import LMModel, build_lm

LM_FILES = {
    "encodec_24khz": "encodec_lm_24khz-1608e3c0.th",
    "encodec_48khz": "encodec_lm_48khz-7add9fc3.th",
}
_FRAME_RATES = {"encodec_24khz": 75, "encodec_48khz": 150}
"""Frames per second of the official models, which set the LM's window (``int(3.5 * frame_rate)``)."""
_LM_NAME = re.compile(r"^encodec_lm_(24|48)khz(?:-[0-9a-f]{8})?\.th$")
_EMBEDDING = re.compile(r"^emb\.(\d+)\.weight$")


def lm_frame_rate(model_name: str) -> int:
    """Frame rate of an official model's LM (75 or 150 frames/s); CheckpointError for other names."""
    if model_name not in _FRAME_RATES:
        raise CheckpointError(f"no LM exists for the model {model_name!r}; only {', '.join(LM_FILES)} have one")
    return _FRAME_RATES[model_name]


def find_lm_checkpoint(model_name: str, model_path: str | os.PathLike[str] | None = None) -> Path | None:
    """The official LM file for ``model_name``, next to ``model_path`` or in torch hub's checkpoints, else None."""
    file_name = LM_FILES.get(model_name)
    if file_name is None:
        return None
    folders = [] if model_path is None else [Path(model_path).parent]
    folders.append(torch_hub_checkpoint_dir())
    for folder in folders:
        if (folder / file_name).is_file():
            return folder / file_name
    return None


def load_lm(path: str | os.PathLike[str], frame_rate: int | None = None) -> LMModel:
    """Load an official LM checkpoint strictly, in eval mode.

    Parameters
    ----------
    path : path-like
        The ``.th`` state dict.
    frame_rate : int, optional
        Frames per second of the codec it serves (sets the attention window). By default it is taken from the
        official file name, else from the number of codebooks (32 → 75 at 24 kHz, 16 → 150 at 48 kHz).

    Raises
    ------
    ModelNotFoundError
        If there is no such file.
    CheckpointError
        If the file is not a plain state dict of tensors or does not match the LM's layout.
    """
    file = Path(path)
    if not file.is_file():
        raise ModelNotFoundError(f"no LM checkpoint at {file}")
    state = read_torch_state_dict(file)
    n_q = sum(1 for key in state if _EMBEDDING.match(key))
    if n_q == 0:
        raise CheckpointError(f"{file} has no 'emb.*.weight' tensors: not an EnCodec LM checkpoint")
    card = int(state["emb.0.weight"].shape[0]) - 1 if "emb.0.weight" in state else 0
    if frame_rate is None:
        match = _LM_NAME.match(file.name)
        if match:
            frame_rate = lm_frame_rate(f"encodec_{match.group(1)}khz")
        elif n_q in (32, 16):
            frame_rate = 75 if n_q == 32 else 150
        else:
            raise CheckpointError(f"{file}: cannot tell the LM's frame rate from its name or its {n_q} codebooks")
    lm = build_lm(n_q, frame_rate, card=card)
    try:
        lm.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        summary = " ".join(str(exc).splitlines()[0:3])
        raise CheckpointError(f"{file} does not match the EnCodec LM architecture: {summary}") from exc
    for name, tensor in lm.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{file}: tensor {name} holds NaN or Inf values")
    return lm.eval()
