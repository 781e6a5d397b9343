"""Multi-scale STFT discriminator of EnCodec (Défossez et al. 2022, §3.3), written from the paper.

Each scale looks at the complex STFT of the audio (real and imaginary parts as two input channels) through a small
2-D conv stack and returns a map of logits plus its intermediate activations for feature matching. The paper uses one
discriminator per bandwidth (:class:`DiscriminatorBank`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from codec.quantization.rvq import check_bitrate
from codec.training.losses import normalized_stft

__all__ = ["DiscriminatorBank", "MultiScaleSTFTDiscriminator", "STFTDiscriminator"]

_KERNEL = (3, 9)  # (time, frequency)
_DILATIONS = (1, 2, 4)  # on time
_LEAKY_SLOPE = 0.2


def _conv(in_channels: int, out_channels: int, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1),
          dilation: tuple[int, int] = (1, 1)) -> nn.Conv2d:
    """Weight-normalised Conv2d padded to keep the size (up to stride) on both axes."""
    padding = tuple((k - 1) * d // 2 for k, d in zip(kernel, dilation, strict=True))
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, dilation=dilation, padding=padding)
    return weight_norm(conv)


class STFTDiscriminator(nn.Module):
    """One scale: ``[N, T]`` mono signals → logits ``[N, 1, frames, F']`` and 5 feature maps ``[N, filters, …]``.

    Layers (activations LeakyReLU 0.2 after each conv but the last; all convs weight-normalised): Conv2d(2 → filters,
    (3, 9)); three Conv2d(filters → filters, (3, 9)) with time dilations 1, 2, 4 and stride 2 on frequency; Conv2d
    (3, 3); then the (3, 3) logit conv to one channel. Layout is ``[N, channels, time, frequency]``, so
    ``F' = ceil(ceil(ceil(bins / 2) / 2) / 2)`` with ``bins = n_fft // 2 + 1``.
    """

    def __init__(self, n_fft: int, filters: int = 32) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = n_fft // 4
        layers = [_conv(2, filters, _KERNEL)]
        for dilation in _DILATIONS:
            layers.append(_conv(filters, filters, _KERNEL, stride=(1, 2), dilation=(dilation, 1)))
        layers.append(_conv(filters, filters, (3, 3)))
        self.convs = nn.ModuleList(layers)
        self.conv_post = _conv(filters, 1, (3, 3))
        self.activation = nn.LeakyReLU(_LEAKY_SLOPE)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        spec = normalized_stft(x, self.n_fft, self.hop_length)  # [N, bins, frames]
        z = torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3)  # [N, 2, frames, bins]
        features = []
        for conv in self.convs:
            z = self.activation(conv(z))
            features.append(z)
        return self.conv_post(z), features


class MultiScaleSTFTDiscriminator(nn.Module):
    """MS-STFT discriminator: one :class:`STFTDiscriminator` per window length in ``n_ffts`` (hop ``n_fft / 4``).

    The STFT is normalised and uncentred (``T >= max(n_ffts)`` samples needed). Channels of a multi-channel input are
    judged separately: ``[B, C, T]`` is folded into ``[B·C, T]``, so logits and feature maps have ``B·C`` rows
    (row ``b·C + c`` is channel ``c`` of item ``b``). At 48 kHz the paper doubles the windows: pass
    ``n_ffts=(4096, 2048, 1024, 512, 256)``.
    """

    def __init__(self, filters: int = 32, n_ffts: tuple[int, ...] = (2048, 1024, 512, 256, 128),
                 channels: int = 1) -> None:
        super().__init__()
        if not n_ffts or channels < 1 or filters < 1:
            raise ValueError(f"bad discriminator settings: filters={filters}, n_ffts={n_ffts}, channels={channels}")
        self.channels = channels
        self.n_ffts = tuple(n_ffts)
        self.scales = nn.ModuleList(STFTDiscriminator(n_fft, filters) for n_fft in self.n_ffts)

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[list[Tensor]]]:
        """``x [B, C, T]`` → (logits ``[B·C, 1, frames_k, F_k]`` per scale, 5 feature maps per scale)."""
        if x.dim() != 3 or x.shape[1] != self.channels:
            raise ValueError(f"expected audio [B, {self.channels}, T], got {list(x.shape)}")
        flat = x.reshape(-1, x.shape[-1])
        logits, features = [], []
        for scale in self.scales:
            scale_logits, scale_features = scale(flat)
            logits.append(scale_logits)
            features.append(scale_features)
        return logits, features


def _bitrate_key(bitrate_kbps: float) -> str:
    # Module names may not contain ".".
    return f"{bitrate_kbps:g}kbps".replace(".", "_")


class DiscriminatorBank(nn.Module):
    """One :class:`MultiScaleSTFTDiscriminator` per bandwidth, as the paper trains them; ``bank[6.0]`` picks one.

    Keyword arguments go to every discriminator. Unknown bitrates raise
    :class:`codec.errors.UnknownBitrateError` listing the allowed ones.
    """

    def __init__(self, bitrates_kbps: Sequence[float], filters: int = 32,
                 n_ffts: tuple[int, ...] = (2048, 1024, 512, 256, 128), channels: int = 1) -> None:
        super().__init__()
        if not bitrates_kbps:
            raise ValueError("need at least one bitrate")
        self.bitrates_kbps = tuple(float(b) for b in bitrates_kbps)
        self.discriminators = nn.ModuleDict(
            {_bitrate_key(b): MultiScaleSTFTDiscriminator(filters, n_ffts, channels) for b in self.bitrates_kbps}
        )

    def __getitem__(self, bitrate_kbps: float) -> MultiScaleSTFTDiscriminator:
        allowed = check_bitrate(bitrate_kbps, self.bitrates_kbps)
        return self.discriminators[_bitrate_key(allowed)]  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.bitrates_kbps)
