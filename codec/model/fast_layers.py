"""The decoder's upsampling stack as channels-last steps with weights packed for :mod:`codec.model.fast_ops`.

Each step maps ``[T, C_in]`` (time-major, rows contiguous) to ``[T', C_out]`` and writes into scratch buffers
of a :class:`~codec.model.fast_ops.Workspace`, so the output of a step is a view that the next chunk overwrites.
"""

from __future__ import annotations

import torch
from torch import nn

from codec.model.conv import SConv1d, SConvTranspose1d
from codec.model.fast_ops import (
    Workspace,
    conv1d_narrow,
    conv1d_taps,
    conv_transpose_2s,
    elu_,
    elu_into,
    fill_reflect_rows,
    group_norm_rows_,
    reflect_pad_small,
)
from codec.model.norm import WeightNormConv1d, WeightNormConvTranspose1d

# Below this many output channels a conv is computed by one GEMM and a diagonal sum (see conv1d_narrow).
_NARROW = 8


class UnsupportedLayoutError(Exception):
    """The decoder has a layer layout the fast path does not cover; the plain path runs instead."""


def _weight(conv: nn.Module) -> torch.Tensor:
    if isinstance(conv, (WeightNormConv1d, WeightNormConvTranspose1d)):
        return conv.current_weight().detach()
    return conv.weight.detach()


def _bias(conv: nn.Module) -> torch.Tensor | None:
    return None if conv.bias is None else conv.bias.detach().clone()


def _group_norm(norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor, float] | None:
    if isinstance(norm, nn.GroupNorm):
        if norm.num_groups != 1 or not norm.affine:
            raise UnsupportedLayoutError("only GroupNorm(1, C) with affine parameters")
        return norm.weight.detach().clone(), norm.bias.detach().clone(), norm.eps
    if isinstance(norm, nn.Identity):
        return None
    raise UnsupportedLayoutError(f"norm {type(norm).__name__}")


class ConvStep:
    """Optional ELU, then a stride-1 :class:`SConv1d` (reflect padding as the module pads) and its norm."""

    upsampling = 1

    def __init__(self, module: SConv1d, elu: bool) -> None:
        conv = module.conv.conv
        if conv.stride[0] != 1 or conv.groups != 1 or module.pad_mode != "reflect":
            raise UnsupportedLayoutError("decoder conv with stride, groups or non-reflect padding")
        self.module, self.elu, self.dilation = module, elu, conv.dilation[0]
        weight = _weight(conv)  # [C_out, C_in, k]
        self.c_out = weight.shape[0]
        self.narrow = self.c_out < _NARROW
        self.taps = weight.permute(2, 1, 0).contiguous()  # [k, C_in, C_out]: one GEMM operand per tap
        self.all_taps = weight.permute(1, 2, 0).contiguous() if self.narrow else None  # [C_in, k, C_out]
        self.bias = _bias(conv)
        self.norm = _group_norm(module.conv.norm)

    @property
    def has_group_norm(self) -> bool:
        return self.norm is not None

    def context(self) -> tuple[int, int]:
        """Input samples this step reads left and right of each output sample (for chunk margins)."""
        left, right = self.module.padding_for(10**6)
        return left, right

    def padded_input(self, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
        """ELU (if any) and reflect padding of ``x`` ``[T, C]`` → ``[left + T + right, C]``."""
        length = x.shape[0]
        left, right = self.module.padding_for(length)
        if left == right == 0 and not self.elu:
            return x
        if length <= max(left, right):
            return reflect_pad_small(torch.nn.functional.elu(x) if self.elu else x, left, right)
        padded = ws.get(key, left + length + right, x.shape[1], x)
        elu_into(x, padded[left : left + length], self.elu)
        fill_reflect_rows(padded, left, length, right)
        return padded

    def __call__(self, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
        length = x.shape[0]
        padded = self.padded_input(x, ws, key + ".in")
        if self.all_taps is not None:
            scratch = ws.get(key + ".taps", padded.shape[0], self.taps.shape[0] * self.c_out, x)
            out = conv1d_narrow(padded, self.all_taps, self.bias, length, self.dilation, scratch)
        else:
            out = conv1d_taps(padded, self.taps, self.bias, length, self.dilation,
                              ws.get(key + ".out", length, self.c_out, x))
        if self.norm is not None:
            group_norm_rows_(out, *self.norm, ws.get("scratch", *out.shape, out))
        return out


class ConvTransposeStep:
    """Optional ELU, then :class:`SConvTranspose1d` with kernel ``2·stride`` (two GEMMs), trim, and norm."""

    def __init__(self, module: SConvTranspose1d, elu: bool) -> None:
        conv = module.convtr.convtr
        stride, kernel = conv.stride[0], conv.kernel_size[0]
        if kernel != 2 * stride or conv.groups != 1 or conv.dilation[0] != 1 or conv.padding[0] != 0 \
                or conv.output_padding[0] != 0:
            raise UnsupportedLayoutError("transposed conv other than kernel = 2 · stride")
        self.elu, self.upsampling, self.trim = elu, stride, module.trim()
        weight = _weight(conv)  # [C_in, C_out, 2s]
        c_in, self.c_out, _ = weight.shape
        # Column (i, o) of w_now/w_prev is output channel o at offset i in the block; tap i or s + i.
        self.w_now = weight[:, :, :stride].permute(0, 2, 1).reshape(c_in, stride * self.c_out).contiguous()
        self.w_prev = weight[:, :, stride:].permute(0, 2, 1).reshape(c_in, stride * self.c_out).contiguous()
        bias = _bias(conv)
        self.bias = None if bias is None else bias.repeat(stride)
        self.norm = _group_norm(module.convtr.norm)

    @property
    def has_group_norm(self) -> bool:
        return self.norm is not None

    def context(self) -> tuple[int, int]:
        # Output block t reads input frames t and t - 1; a left trim shifts blocks by under one input sample.
        return 1, 1 if self.trim[0] else 0

    def __call__(self, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
        length, c_in = x.shape
        padded = ws.get(key + ".in", length + 2, c_in, x)
        padded[0].zero_()
        padded[length + 1].zero_()
        elu_into(x, padded[1 : length + 1], self.elu)
        blocks = ws.get(key + ".out", length + 1, self.upsampling * self.c_out, x)
        conv_transpose_2s(padded, self.w_now, self.w_prev, self.bias, blocks)
        samples = blocks.view(-1, self.c_out)
        if self.norm is not None:
            # The reference normalises before trimming.
            group_norm_rows_(samples, *self.norm, ws.get("scratch", *samples.shape, samples))
        left, right = self.trim
        return samples[left : samples.shape[0] - right]


class ResidualStep:
    """``shortcut(x) + block(x)``, block = ELU, conv k (to C/2), ELU, conv 1 (back to C); GEMMs share ``x``."""

    upsampling = 1

    def __init__(self, unit: nn.Module) -> None:
        layers = list(unit.block)
        if len(layers) != 4 or not isinstance(layers[0], nn.ELU) or not isinstance(layers[2], nn.ELU):
            raise UnsupportedLayoutError("residual block layout")
        self.first = ConvStep(layers[1], elu=True)
        self.second = ConvStep(layers[3], elu=False)
        if layers[3].conv.conv.kernel_size[0] != 1:
            raise UnsupportedLayoutError("residual block with a non-1x1 second conv")
        self.w_block = self.second.taps[0]  # [C/2, C]
        self.shortcut: ConvStep | None = None
        if isinstance(unit.shortcut, SConv1d):
            self.shortcut = ConvStep(unit.shortcut, elu=False)
            if unit.shortcut.conv.conv.kernel_size[0] != 1:
                raise UnsupportedLayoutError("shortcut with a kernel wider than 1")
        elif not isinstance(unit.shortcut, nn.Identity):
            raise UnsupportedLayoutError("shortcut layout")
        self.fused_bias = self.second.bias
        if self.shortcut is not None and self.shortcut.bias is not None:
            self.fused_bias = self.shortcut.bias if self.fused_bias is None else self.fused_bias + self.shortcut.bias

    @property
    def has_group_norm(self) -> bool:
        return any(s is not None and s.norm is not None for s in (self.first, self.second, self.shortcut))

    def context(self) -> tuple[int, int]:
        return self.first.context()

    def __call__(self, x: torch.Tensor, ws: Workspace, key: str) -> torch.Tensor:
        length, channels = x.shape
        hidden = self.first(x, ws, key + ".b1")
        elu_(hidden, ws.get("scratch", *hidden.shape, hidden))
        out = ws.get(key + ".out", length, channels, x)
        if self.has_group_norm:
            return self._grouped(x, hidden, out, ws, key)
        # No norm between them: shortcut and block's 1x1 conv sum into one output, biases fused.
        if self.shortcut is None and self.fused_bias is None:
            out.copy_(x)
        elif self.shortcut is None:
            torch.add(x, self.fused_bias, out=out)
        elif self.fused_bias is None:
            torch.mm(x, self.shortcut.taps[0], out=out)
        else:
            torch.addmm(self.fused_bias, x, self.shortcut.taps[0], out=out)
        return out.addmm_(hidden, self.w_block)

    def _grouped(self, x: torch.Tensor, hidden: torch.Tensor, out: torch.Tensor, ws: Workspace,
                 key: str) -> torch.Tensor:
        # Each conv has its own norm statistics, so the two branches stay separate until the sum.
        block = self.second(hidden, ws, key + ".b3")
        if self.shortcut is None:
            return torch.add(x, block, out=out)
        return torch.add(self.shortcut(x, ws, key + ".sc"), block, out=out)


def parse_stack(layers: list[nn.Module]) -> list[ConvStep | ConvTransposeStep | ResidualStep]:
    """The decoder's layers from its first ELU on → steps (ELUs fold into the step that follows them)."""
    from codec.model.seanet import ResidualUnit

    steps: list[ConvStep | ConvTransposeStep | ResidualStep] = []
    pending_elu = False
    for layer in layers:
        if isinstance(layer, nn.ELU):
            if layer.alpha != 1.0 or pending_elu:
                raise UnsupportedLayoutError("ELU layout")
            pending_elu = True
        elif isinstance(layer, SConvTranspose1d):
            steps.append(ConvTransposeStep(layer, pending_elu))
            pending_elu = False
        elif isinstance(layer, SConv1d):
            steps.append(ConvStep(layer, pending_elu))
            pending_elu = False
        elif isinstance(layer, ResidualUnit) and not pending_elu:
            steps.append(ResidualStep(layer))
        else:
            raise UnsupportedLayoutError(f"layer {type(layer).__name__} in the upsampling stack")
    if pending_elu or not steps:
        raise UnsupportedLayoutError("stack ends with an activation")
    return steps
