"""Streaming stacks: layers in a row, residual units, and the wrapping of a whole SEANet encoder or decoder.

The single layers are in :mod:`codec.streaming.layers`. A residual unit's state is the shortcut's outputs that wait
for the (start-delayed) block branch.
"""

from __future__ import annotations

import torch
from torch import nn

from codec.model.conv import SConv1d, SConvTranspose1d
from codec.model.lstm import SLSTM
from codec.streaming.layers import (
    StreamingConv1d,
    StreamingConvTranspose1d,
    StreamingElementwise,
    StreamingLayer,
    StreamingLSTM,
    UnsupportedStreamingError,
    cat_chunks,
)


class StreamingSequential(StreamingLayer):
    """Layers in a row; :meth:`flush` flushes each in turn, feeding its last outputs to the next."""

    def __init__(self, layers: list[StreamingLayer]) -> None:
        self.layers = layers

    def count(self, n: int) -> int:
        for layer in self.layers:
            n = layer.count(n)
        return n

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        out: torch.Tensor | None = x
        for layer in self.layers:
            if out is None:
                return None
            out = layer.step(out)
        return out

    def flush(self) -> torch.Tensor | None:
        out: torch.Tensor | None = None
        for layer in self.layers:
            ready = layer.step(out) if out is not None else None
            out = cat_chunks(ready, layer.flush())
        return out


class StreamingResidual(StreamingLayer):
    """``shortcut(x) + block(x)``; shortcut outputs wait until the block, delayed at the start, catches up."""

    def __init__(self, unit: nn.Module, offline_kernels: bool = True) -> None:
        self.block = StreamingSequential([wrap(m, offline_kernels) for m in unit.block])
        self.shortcut = None if isinstance(unit.shortcut, nn.Identity) else wrap(unit.shortcut, offline_kernels)
        self.pending: torch.Tensor | None = None

    def count(self, n: int) -> int:
        return self.block.count(n)

    def _short(self, x: torch.Tensor | None) -> torch.Tensor | None:
        if x is None or self.shortcut is None:
            return x
        return self.shortcut.step(x)

    def _combine(self, short: torch.Tensor | None, block: torch.Tensor | None) -> torch.Tensor | None:
        self.pending = cat_chunks(self.pending, short)
        if block is None or block.shape[-1] == 0:
            return None
        assert self.pending is not None
        n = block.shape[-1]
        out = self.pending[..., :n] + block
        self.pending = self.pending[..., n:]
        return out

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        return self._combine(self._short(x), self.block.step(x))

    def flush(self) -> torch.Tensor | None:
        out = self._combine(None, self.block.flush())
        if self.pending is not None and self.pending.shape[-1]:
            raise AssertionError("residual branches ended with different lengths")
        return out


def wrap(module: nn.Module, offline_kernels: bool = True) -> StreamingLayer:
    """The streaming wrapper of one SEANet layer (raises :class:`UnsupportedStreamingError`).

    ``offline_kernels``: make short convolutions take the kernel a long offline signal takes (zero-extended
    inputs, at some cost), for bit equality with the offline encoder.
    """
    from codec.model.seanet import ResidualUnit

    if isinstance(module, SConv1d):
        return StreamingConv1d(module, offline_kernels)
    if isinstance(module, SConvTranspose1d):
        return StreamingConvTranspose1d(module)
    if isinstance(module, SLSTM):
        return StreamingLSTM(module)
    if isinstance(module, ResidualUnit):
        return StreamingResidual(module, offline_kernels)
    if isinstance(module, (nn.ELU, nn.Identity)):
        return StreamingElementwise(module)
    raise UnsupportedStreamingError(f"no streaming version of {type(module).__name__}")


def wrap_stack(model: nn.Sequential, offline_kernels: bool = True) -> StreamingSequential:
    """A SEANet ``.model`` (encoder or decoder) as one streaming stack with fresh state."""
    return StreamingSequential([wrap(m, offline_kernels) for m in model])
