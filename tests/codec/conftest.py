"""Fixtures for codec tests: the reference implementation as an oracle, with random but meaningful weights.

The reference (``encodec==0.1.1``) is test-only (CC BY-NC). It is imported with a ``torchaudio`` stub, since the
real torchaudio cannot be installed beside CPU torch and the model code does not need it.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Callable, Iterator

import pytest
import torch

from codec.config import encodec_24khz, encodec_48khz
from codec.model import EncodecModel, build_model
from codec.testing import fill_codebooks_from_latents


def import_reference() -> types.ModuleType:
    """The reference ``encodec`` package (skips the test when it is not installed)."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    return pytest.importorskip("encodec")


def reference_model(preset: str, seed: int = 0) -> torch.nn.Module:
    """A reference model with random weights and latent-drawn codebooks, named as the official one."""
    encodec = import_reference()
    torch.manual_seed(seed)
    if preset == "encodec_24khz":
        ref = encodec.EncodecModel.encodec_model_24khz(pretrained=False)
    else:
        ref = encodec.EncodecModel.encodec_model_48khz(pretrained=False)
    ref.eval()
    fill_codebooks_from_latents(ref, ref.sample_rate, ref.channels, ref.normalize, seed)
    ref.name = preset
    return ref


def ours_from_reference(ref: torch.nn.Module, preset: str) -> EncodecModel:
    """Our model with the reference's weights, loaded strictly."""
    config = encodec_24khz() if preset == "encodec_24khz" else encodec_48khz()
    ours = build_model(config)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours.prepare_for_inference()


@pytest.fixture(scope="session")
def model_pair() -> Callable[[str], tuple[torch.nn.Module, EncodecModel]]:
    """``model_pair(preset)`` → (reference, ours) with identical random weights; cached per preset."""
    cache: dict[str, tuple[torch.nn.Module, EncodecModel]] = {}

    def get(preset: str) -> tuple[torch.nn.Module, EncodecModel]:
        if preset not in cache:
            ref = reference_model(preset)
            cache[preset] = (ref, ours_from_reference(ref, preset))
        return cache[preset]

    return get


@pytest.fixture()
def patched_reference_models(monkeypatch: pytest.MonkeyPatch, model_pair) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Point the reference's model table at our random models so its compress/decompress run offline."""
    import_reference()
    compress = sys.modules["encodec.compress"]
    for preset in ("encodec_24khz", "encodec_48khz"):
        ref, _ = model_pair(preset)
        monkeypatch.setitem(compress.MODELS, preset, lambda ref=ref: ref)
    yield


def affected_by_issue_35(length: int, sample_rate: int, segment_stride: int | None) -> bool:
    """True when 0.1.1's float frame count (its bug #35) reads one frame too many for some segment."""
    lengths = [length] if segment_stride is None else [
        min(sample_rate, length - start) for start in range(0, length, segment_stride)
    ]
    frame_rate = math.ceil(sample_rate / 320)
    return any(math.ceil(n / sample_rate * frame_rate) != math.ceil(n / 320) for n in lengths)
