"""SEANet encoder and decoder (the convolutional halves of EnCodec).

Module indices inside ``.model`` follow the reference exactly, because they are part of the checkpoint keys
(e.g. ``encoder.model.3.conv.conv.weight_g`` is the first downsampling conv).
"""

from __future__ import annotations

import torch
from torch import nn

from codec.config import SEANetConfig
from codec.model.conv import SConv1d, SConvTranspose1d
from codec.model.lstm import SLSTM


class ResidualUnit(nn.Module):
    """``shortcut(x) + block(x)`` with block = ELU, conv k3 (dim → dim/compress), ELU, conv k1 (back to dim)."""

    def __init__(self, dim: int, config: SEANetConfig, dilation: int) -> None:
        super().__init__()
        hidden = dim // config.compress
        conv = {"norm": config.norm, "causal": config.causal, "pad_mode": config.pad_mode}
        self.block = nn.Sequential(
            nn.ELU(alpha=1.0),
            SConv1d(dim, hidden, config.residual_kernel_size, dilation=dilation, **conv),
            nn.ELU(alpha=1.0),
            SConv1d(hidden, dim, 1, **conv),
        )
        # The official models use a learnt 1x1 shortcut (true_skip=False); keep the identity option for our own.
        self.shortcut: nn.Module = nn.Identity() if config.true_skip else SConv1d(dim, dim, 1, **conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.block(x)


def _residual_stack(dim: int, config: SEANetConfig) -> list[nn.Module]:
    return [ResidualUnit(dim, config, config.dilation_base**j) for j in range(config.n_residual_layers)]


class SEANetEncoder(nn.Module):
    """Audio ``[B, C_audio, T]`` → latent ``[B, dimension, ceil(T / hop)]``."""

    def __init__(self, channels: int, config: SEANetConfig) -> None:
        super().__init__()
        conv = {"norm": config.norm, "causal": config.causal, "pad_mode": config.pad_mode}
        mult = 1
        layers: list[nn.Module] = [SConv1d(channels, config.n_filters, config.kernel_size, **conv)]
        for ratio in reversed(config.ratios):
            dim = mult * config.n_filters
            layers += _residual_stack(dim, config)
            layers += [nn.ELU(alpha=1.0), SConv1d(dim, dim * 2, ratio * 2, stride=ratio, **conv)]
            mult *= 2
        if config.lstm_layers:
            layers.append(SLSTM(mult * config.n_filters, config.lstm_layers))
        final = SConv1d(mult * config.n_filters, config.dimension, config.last_kernel_size, **conv)
        layers += [nn.ELU(alpha=1.0), final]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class SEANetDecoder(nn.Module):
    """Latent ``[B, dimension, F]`` → audio ``[B, C_audio, F * hop]`` (no final activation: output unclamped)."""

    def __init__(self, channels: int, config: SEANetConfig) -> None:
        super().__init__()
        conv = {"norm": config.norm, "causal": config.causal, "pad_mode": config.pad_mode}
        mult = 2 ** len(config.ratios)
        layers: list[nn.Module] = [SConv1d(config.dimension, mult * config.n_filters, config.kernel_size, **conv)]
        if config.lstm_layers:
            layers.append(SLSTM(mult * config.n_filters, config.lstm_layers))
        for ratio in config.ratios:
            dim = mult * config.n_filters
            layers += [
                nn.ELU(alpha=1.0),
                SConvTranspose1d(dim, dim // 2, ratio * 2, stride=ratio, norm=config.norm, causal=config.causal,
                                 trim_right_ratio=config.trim_right_ratio),
            ]
            layers += _residual_stack(dim // 2, config)
            mult //= 2
        layers += [nn.ELU(alpha=1.0), SConv1d(config.n_filters, channels, config.last_kernel_size, **conv)]
        self.model = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z)
