"""Streamable convolutions: the reference's padding rules, which fix output lengths and bit-exactness.

A convolution with kernel ``k`` and stride ``s`` is padded by ``k - s`` in total, plus just enough on the right
that the last window is full. Causal layers put all of ``k - s`` on the left; non-causal ones split it.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from codec.model.norm import NormConv1d, NormConvTranspose1d


def extra_padding_for_conv1d(length: int, kernel_size: int, stride: int, padding_total: int) -> int:
    """Right padding (samples) so that the last window of a strided conv is full."""
    n_frames = (length - kernel_size + padding_total) / stride + 1
    ideal_length = (math.ceil(n_frames) - 1) * stride + (kernel_size - padding_total)
    return ideal_length - length


def pad1d(x: torch.Tensor, left: int, right: int, mode: str = "reflect") -> torch.Tensor:
    """Pad ``[B, C, T]`` in time; reflect-padding works even when T is shorter than the padding."""
    if mode != "reflect":
        return F.pad(x, (left, right), mode=mode)
    length = x.shape[-1]
    max_pad = max(left, right)
    extra = 0
    if length <= max_pad:
        # Reflection needs more samples than the pad: zero-extend first, then crop the extension off.
        extra = max_pad - length + 1
        x = F.pad(x, (0, extra))
    padded = F.pad(x, (left, right), mode="reflect")
    return padded[..., : padded.shape[-1] - extra]


class SConv1d(nn.Module):
    """Conv1d with built-in streaming-compatible padding. Input ``[B, C_in, T]`` → ``[B, C_out, ceil(T / s)]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1,
                 groups: int = 1, bias: bool = True, causal: bool = False, norm: str = "none",
                 pad_mode: str = "reflect") -> None:
        super().__init__()
        self.conv = NormConv1d(in_channels, out_channels, kernel_size, stride, dilation, groups, bias, norm)
        self.causal = causal
        self.pad_mode = pad_mode

    @property
    def padding_total(self) -> int:
        conv = self.conv.conv
        return (conv.kernel_size[0] - 1) * conv.dilation[0] - (conv.stride[0] - 1)

    def padding_for(self, length: int) -> tuple[int, int]:
        """(left, right) padding in samples for an input of ``length`` samples."""
        conv = self.conv.conv
        effective_kernel = (conv.kernel_size[0] - 1) * conv.dilation[0] + 1
        total = self.padding_total
        extra = extra_padding_for_conv1d(length, effective_kernel, conv.stride[0], total)
        if self.causal:
            return total, extra
        right = total // 2
        return total - right, right + extra

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = self.padding_for(x.shape[-1])
        return self.conv(pad1d(x, left, right, self.pad_mode))


class SConvTranspose1d(nn.Module):
    """ConvTranspose1d that trims the reference's fixed padding. ``[B, C_in, T]`` → ``[B, C_out, T * s]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, causal: bool = False,
                 norm: str = "none", trim_right_ratio: float = 1.0) -> None:
        super().__init__()
        if not causal and trim_right_ratio != 1.0:
            raise ValueError("trim_right_ratio only applies to causal convolutions")
        if not 0.0 <= trim_right_ratio <= 1.0:
            raise ValueError("trim_right_ratio must be in [0, 1]")
        self.convtr = NormConvTranspose1d(in_channels, out_channels, kernel_size, stride, norm)
        self.causal = causal
        self.trim_right_ratio = trim_right_ratio

    def trim(self) -> tuple[int, int]:
        """(left, right) samples removed from the transposed conv's output."""
        conv = self.convtr.convtr
        total = conv.kernel_size[0] - conv.stride[0]
        if self.causal:
            right = math.ceil(total * self.trim_right_ratio)
        else:
            right = total // 2
        return total - right, right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.convtr(x)
        left, right = self.trim()
        return y[..., left : y.shape[-1] - right]
