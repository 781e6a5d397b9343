"""SEANet encoder and decoder (the convolutional halves of EnCodec).

Module indices inside ``.model`` follow the reference exactly, because they are part of the checkpoint keys
(e.g. ``encoder.model.3.conv.conv.weight_g`` is the first downsampling conv).
"""

from __future__ import annotations

import torch
from torch import nn

from codec.config import SEANetConfig
from codec.model.conv import SConv1d, SConvTranspose1d
from codec.model.fast_decoder import PackedDecoder, UnsupportedLayoutError
from codec.model.fast_encoder import encoder_forward
from codec.model.lstm import SLSTM


def inference_only(module: nn.Module) -> bool:
    """Whether a forward pass may take the inference kernels: eval mode and no autograd graph being recorded."""
    return not module.training and not torch.is_grad_enabled()


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
        #: Use the copy-saving inference path (bit-identical results) in eval mode without grad.
        self.fast_inference = True
        #: Latent frames per chunk when the inference path chunks a long input (75 = 1 s at 24 kHz).
        self.chunk_frames = 75

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast_inference and inference_only(self):
            return encoder_forward(self, x, self.chunk_frames)
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
        #: Use the channels-last GEMM kernels in inference (eval mode, no grad). Tests turn it off to compare.
        self.fast_inference = True
        self._packed: PackedDecoder | None = None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.fast_inference and inference_only(self):
            packed = self.packed()
            if packed is not None:
                return packed(z)
        return self.model(z)

    def packed(self) -> PackedDecoder | None:
        """The inference copy of the weights, rebuilt whenever the weights changed (None: layout unsupported)."""
        if self._packed is None or not self._packed.is_current(self):
            try:
                with torch.inference_mode(False), torch.no_grad():  # normal tensors, usable in either mode
                    self._packed = PackedDecoder(self)
            except UnsupportedLayoutError:
                self.fast_inference = False
                return None
        return self._packed

    def train(self, mode: bool = True) -> SEANetDecoder:
        if mode:
            self._packed = None  # training changes the weights: drop the inference copy
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._packed = None
        super()._load_from_state_dict(*args, **kwargs)
