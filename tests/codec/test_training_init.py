"""He initialisation keeps the input alive through a fresh SEANet; PyTorch's default nearly erases it."""

from __future__ import annotations

import dataclasses

import torch

from codec.config import encodec_24khz
from codec.model.encodec import build_model
from codec.training.init import he_init_


def _relative_spread(init_he: bool) -> tuple[float, float]:
    torch.manual_seed(0)
    base = encodec_24khz()
    config = dataclasses.replace(base, seanet=dataclasses.replace(base.seanet, n_filters=8))
    model = build_model(config)
    if init_he:
        he_init_(model)
    clips = 0.05 * torch.randn(2, 1, 24_000)
    with torch.no_grad():
        latent = model.encoder(clips)
        audio = model.decoder(latent)
    spread = float((latent[0] - latent[1]).abs().mean() / latent.abs().mean())
    return spread, float(audio.std() / clips.std())


def test_he_init_keeps_latents_input_dependent_and_output_quiet() -> None:
    default_spread, _ = _relative_spread(init_he=False)
    he_spread, he_gain = _relative_spread(init_he=True)
    assert he_spread > 10 * default_spread, (he_spread, default_spread)
    assert he_spread > 0.3
    assert he_gain < 2.0, "the first outputs must not be much louder than the input (400x without the scaling)"
