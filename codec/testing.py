"""Random-weight models for tests and benchmarks: never shipped as a codec, never shown to users as one.

Codebooks are drawn from the encoder's own latents layer by layer: normal-random codebooks collapse onto a handful
of codes and exercise little, while latent-drawn ones make every layer choose among many close candidates.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from codec.config import PRESETS
from codec.model import EncodecModel, build_model


def synthetic_signal(channels: int, length: int, sample_rate: int, seed: int = 0) -> torch.Tensor:
    """A deterministic mix of a tone, a chirp and noise, ``[1, C, T]`` in [-0.5, 0.5]."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float64) / sample_rate
    tones = 0.2 * torch.sin(2 * torch.pi * 220 * t) + 0.1 * torch.sin(2 * torch.pi * (300 + 2000 * t) * t)
    noise = 0.1 * torch.randn(channels, length, generator=gen, dtype=torch.float64)
    return (tones.unsqueeze(0) + noise).float().unsqueeze(0).clamp(-0.5, 0.5)


@torch.no_grad()
def fill_codebooks_from_latents(model: nn.Module, sample_rate: int, channels: int, normalize: bool,
                                seed: int = 0) -> None:
    """Set every codebook of ``model`` (ours or the reference, same module tree) from latent residuals."""
    gen = torch.Generator().manual_seed(seed)
    audio = synthetic_signal(channels, 3 * sample_rate, sample_rate, seed)
    if normalize:
        audio = audio / audio.mean(dim=1, keepdim=True).pow(2).mean().sqrt()
    residual = model.encoder(audio)[0].t()  # [F, D]
    for layer in model.quantizer.vq.layers:
        codebook = layer._codebook
        picks = torch.randint(0, residual.shape[0], (codebook.embed.shape[0],), generator=gen)
        noise = torch.randn(codebook.embed.shape, generator=gen)
        embed = residual[picks] + 1e-3 * residual.std() * noise
        codebook.embed.copy_(embed)
        codebook.embed_avg.copy_(embed)
        codebook.inited.fill_(1)
        codes = layer.encode(residual.t().unsqueeze(0))
        residual = residual - layer.decode(codes)[0].t()


def random_model(preset: str = "encodec_24khz", seed: int = 0) -> EncodecModel:
    """A model of a preset's architecture with random weights and latent-drawn codebooks."""
    torch.manual_seed(seed)
    config = PRESETS[preset]()
    model = build_model(config).eval()
    fill_codebooks_from_latents(model, config.sample_rate, config.channels, config.normalize, seed)
    return model


def random_codec_checkpoint(path: Path, preset: str = "encodec_24khz", seed: int = 0) -> Path:
    """Write a random-weight model in our format (marked ``random_init``) and return its path. Tests only."""
    from codec.checkpoint import save_model

    model = random_model(preset, seed)
    model.config = _renamed(model, f"random_{preset}")
    return save_model(model, path, provenance={"random_init": True, "seed": seed, "note": "tests only"})


def _renamed(model: EncodecModel, name: str):  # type: ignore[no-untyped-def]
    import dataclasses

    return dataclasses.replace(model.config, name=name)
