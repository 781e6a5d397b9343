"""Weight initialisation for training from scratch.

PyTorch's default conv initialisation (Kaiming-uniform with ``a=√5``) scales each layer's output by about 1/√3, while
every layer's bias adds a constant. Through SEANet's convolutions the input all but vanishes: a fresh encoder gives
nearly the same latent for any clip (measured: spread across clips 2e-4 against a magnitude of 0.35), the quantizer
sees one point, and a small-batch run learns nothing for thousands of steps.

He-normal weights with zero biases keep the input alive through the ELU network. Two scalings stop the output from
exploding (about 400× too loud without them): each residual branch's last convolution starts at a tenth of its He
scale (the units start close to their 1×1 shortcut), and the decoder's last convolution at 1% (the first outputs
are near silence rather than loud noise). Measured on the corpus with the small model, batch 8 × 0.5 s: SI-SDR went
from −40 dB to −15 dB in 300 steps, where the default initialisation stayed below −37 dB after 1,000.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from codec.model.norm import WeightNormConv1d, WeightNormConvTranspose1d
from codec.model.seanet import ResidualUnit

RESIDUAL_BRANCH_SCALE = 0.1
OUTPUT_SCALE = 0.01


@torch.no_grad()
def he_init_(model: nn.Module) -> nn.Module:
    """Re-initialise ``model``'s weight-normalised convolutions in place (He-normal, zero bias, scaled as above).

    ``model`` is an :class:`~codec.model.encodec.EncodecModel` (its ``decoder`` is read for the output layer).
    """
    for module in model.modules():
        if isinstance(module, (WeightNormConv1d, WeightNormConvTranspose1d)):
            _he_normal_(module)
    for module in model.modules():
        if isinstance(module, ResidualUnit):
            branch = [c for name, c in module.named_modules() if "block" in name and isinstance(c, WeightNormConv1d)]
            if branch:
                branch[-1].weight_g.mul_(RESIDUAL_BRANCH_SCALE)
    output = [c for c in model.decoder.modules() if isinstance(c, WeightNormConv1d)]  # type: ignore[union-attr]
    if output:
        output[-1].weight_g.mul_(OUTPUT_SCALE)
    return model


def _he_normal_(conv: WeightNormConv1d | WeightNormConvTranspose1d) -> None:
    weight = conv.weight_v
    if isinstance(conv, WeightNormConvTranspose1d):
        # [C_in, C_out, K]: each output sample sums C_in · K / stride taps.
        fan_in = weight.shape[0] * weight.shape[2] / conv.stride[0]
    else:
        fan_in = weight.shape[1] * weight.shape[2]
    weight.normal_(0.0, math.sqrt(2.0 / fan_in))
    # Weight norm is over all dims but the first (the reference's layout): g = |v| makes the weight equal v.
    conv.weight_g.copy_(weight.flatten(1).norm(dim=1).reshape(conv.weight_g.shape))
    if conv.bias is not None:
        conv.bias.zero_()
