"""What one training step does: generator losses through the balancer, discriminator update, EMA of weights.

Kept apart from the loop (:mod:`codec.training.trainer`) so the maths of a step reads in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from codec.training.balancer import Balancer
from codec.training.config import LossConfig
from codec.training.discriminator import MultiScaleSTFTDiscriminator
from codec.training.losses import (
    MultiScaleMelLoss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    relative_feature_matching_loss,
    time_l1_loss,
)


@dataclass(frozen=True)
class StepPlan:
    """Per-step random choices, drawn from a generator seeded by (seed, step) so every rank and a resumed run
    make the same ones."""

    bitrate_kbps: float
    adversarial: bool
    update_discriminator: bool


def plan_step(seed: int, step: int, bitrates_kbps: tuple[float, ...], losses: LossConfig) -> StepPlan:
    """One bandwidth per batch (paper §3.4), and whether the discriminator learns this step."""
    import numpy as np

    rng = np.random.default_rng([seed, step, 0xB17])
    bitrate = float(bitrates_kbps[int(rng.integers(len(bitrates_kbps)))])
    adversarial = losses.adversarial and step >= losses.adversarial_start_step
    update = adversarial and bool(rng.random() < losses.discriminator_probability)
    return StepPlan(bitrate, adversarial, update)


def generator_losses(x: torch.Tensor, x_hat: torch.Tensor, mel_loss: MultiScaleMelLoss,
                     discriminator: MultiScaleSTFTDiscriminator | None) -> dict[str, torch.Tensor]:
    """Reconstruction losses, plus adversarial and relative feature-matching losses when a discriminator is given.

    ``x`` and ``x_hat`` are ``[B, C, T]``.
    """
    losses = {"l1": time_l1_loss(x_hat, x), "mel": mel_loss(x_hat, x)}
    if discriminator is not None:
        fake_logits, fake_features = discriminator(x_hat)
        with torch.no_grad():
            _, real_features = discriminator(x)
        losses["adv"] = hinge_generator_loss(fake_logits)
        losses["feat"] = relative_feature_matching_loss(real_features, fake_features)
    return losses


def discriminator_loss(discriminator: MultiScaleSTFTDiscriminator, x: torch.Tensor,
                       x_hat: torch.Tensor) -> torch.Tensor:
    """Hinge loss of the discriminator on real ``x`` and detached fake ``x_hat``."""
    real_logits, _ = discriminator(x)
    fake_logits, _ = discriminator(x_hat.detach())
    return hinge_discriminator_loss(real_logits, fake_logits)


def backward_generator(losses: dict[str, torch.Tensor], x_hat: torch.Tensor, penalty: torch.Tensor,
                       config: LossConfig, balancer: Balancer | None) -> dict[str, float]:
    """One backward pass for the generator: balanced losses through ``x_hat`` plus the (unbalanced) commitment.

    A single ``torch.autograd.backward`` call, because DistributedDataParallel synchronises gradients once per
    backward. Returns the per-loss gradient norms the balancer measured (empty without a balancer).
    """
    commitment = penalty * config.commitment_weight
    if balancer is None:
        total = sum(config.weights[name] * value for name, value in losses.items())
        (total + commitment).backward()
        return {}
    gradient, norms = balancer.gradient(losses, x_hat)
    tensors, grads = [x_hat], [gradient]
    if commitment.requires_grad:
        tensors.append(commitment)
        grads.append(torch.ones_like(commitment))
    torch.autograd.backward(tensors, grads)
    return norms


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema ← decay·ema + (1-decay)·model`` for parameters; buffers (codebooks, counters) copied as they are."""
    for ema_param, param in zip(ema.parameters(), model.parameters(), strict=True):
        ema_param.lerp_(param.detach(), 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers(), strict=True):
        ema_buffer.copy_(buffer)
