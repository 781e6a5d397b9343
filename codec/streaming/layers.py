"""Stateful, chunk-by-chunk versions of the causal SEANet layers, computing the offline values.

This file holds the interface and the single layers; :mod:`codec.streaming.stack` chains them and wraps a model.

Each wrapper holds one layer's state and maps a chunk of new input ``[B, C_in, n]`` to the outputs it makes
ready ``[B, C_out, m]`` (``m`` may be 0); :meth:`flush` ends the input and returns the outputs that only the end
of the signal decides. The state per layer is what the reference's padding rules (spec §1.3) make it depend on:

* a causal conv: its last ``k - s`` inputs (left context), and before the start the raw first samples, because
  the reference reflect-pads the signal's start (the first output mirrors inputs ``1..k-s``: it waits for them);
  at the end, the right "extra" padding (reflection of the last samples) that fills the last strided window;
* the LSTM: ``(h, c)`` of each layer;
* a causal transposed conv (kernel ``2s``, right trim ``s``): the previous input frame, whose overlap tail is
  the second half of the next output block.

``count(n)`` is the number of outputs ready after ``n`` inputs; it is pure arithmetic, used for the latency.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from codec.model.conv import SConv1d, SConvTranspose1d, extra_padding_for_conv1d, pad1d
from codec.model.fast_encoder import ONEDNN_MIN_NUMEL
from codec.model.lstm import SLSTM

_VECTOR = 32  # elements per vectorised ELU step in torch's CPU kernel


class UnsupportedStreamingError(ValueError):
    """The model has a layer that cannot stream exactly (non-causal, group norm, unusual kernel)."""


def cat_chunks(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    """Chunks ``[B, C, n]`` joined in time; a missing (None) or empty one is skipped."""
    if a is None or a.shape[-1] == 0:
        return b
    if b is None or b.shape[-1] == 0:
        return a
    return torch.cat([a, b], dim=-1)


class StreamingLayer:
    """Interface of every wrapper."""

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        raise NotImplementedError

    def flush(self) -> torch.Tensor | None:
        return None

    def count(self, n: int) -> int:
        return n


class StreamingConv1d(StreamingLayer):
    """A causal :class:`SConv1d`: outputs as soon as their window is complete, the right padding at the end."""

    def __init__(self, module: SConv1d, offline_kernels: bool = True) -> None:
        conv = module.conv.conv
        self.offline_kernels = offline_kernels
        if not module.causal or module.pad_mode != "reflect":
            raise UnsupportedStreamingError("streaming needs causal convolutions with reflect padding")
        if any(isinstance(m, nn.GroupNorm) for m in module.modules()):
            raise UnsupportedStreamingError("group norm takes statistics over the whole signal: no streaming")
        self.module = module
        self.stride = conv.stride[0]
        self.kernel = (conv.kernel_size[0] - 1) * conv.dilation[0] + 1
        self.left = module.padding_total
        if self.stride - 1 > self.left:
            raise UnsupportedStreamingError("the end padding of this conv reaches past its left context")
        self.buffer: torch.Tensor | None = None  # raw input before the start, padded-domain tail after it
        self.started = False
        self.seen = 0
        self.emitted = 0

    def count(self, n: int) -> int:
        if n <= self.left:
            return 0
        return max(0, (n + self.left - self.kernel) // self.stride + 1)

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        self.seen += x.shape[-1]
        buffer = cat_chunks(self.buffer, x)
        if buffer is None:
            return None
        if not self.started:
            if buffer.shape[-1] <= self.left:
                self.buffer = buffer
                return None
            buffer = pad1d(buffer, self.left, 0)  # the reference's reflection of the signal's start
            self.started = True
        return self._run(buffer)

    def _run(self, padded: torch.Tensor) -> torch.Tensor | None:
        n_out = (padded.shape[-1] - self.kernel) // self.stride + 1 if padded.shape[-1] >= self.kernel else 0
        self.buffer = padded[..., n_out * self.stride :]
        if n_out == 0:
            return None
        self.emitted += n_out
        window = padded[..., : (n_out - 1) * self.stride + self.kernel]
        if self.offline_kernels and window.shape[0] * window.shape[1] * window.shape[2] <= ONEDNN_MIN_NUMEL:
            # A short input would take torch's im2col kernel, which sums in another order than the oneDNN kernel
            # a long offline signal takes. Zeros appended on the right (outputs dropped) keep the oneDNN kernel;
            # its outputs do not depend on the input's length (see codec.model.fast_encoder).
            extra = ONEDNN_MIN_NUMEL // (window.shape[0] * window.shape[1]) + 1 - window.shape[2]
            return self.module.conv(F.pad(window, (0, extra)))[..., :n_out]
        return self.module.conv(window)

    def flush(self) -> torch.Tensor | None:
        if self.buffer is None or self.seen == 0:
            return None
        if not self.started:
            # The whole input is shorter than the left padding: the offline layer on all of it (tiny).
            self.started = True
            return self.module(self._take_raw())
        extra = extra_padding_for_conv1d(self.seen, self.kernel, self.stride, self.left)
        padded = self.buffer
        if extra:
            padded = torch.cat([padded, padded[..., -extra - 1 : -1].flip(-1)], dim=-1)
        out = self._run(padded)
        expected = -(-self.seen // self.stride)
        if self.emitted != expected:
            raise AssertionError(f"streaming conv emitted {self.emitted} outputs, offline gives {expected}")
        return out

    def _take_raw(self) -> torch.Tensor:
        raw, self.buffer = self.buffer, None
        assert raw is not None
        self.emitted = -(-self.seen // self.stride)
        return raw


class StreamingElementwise(StreamingLayer):
    """A stateless layer (ELU)."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        if x.shape[-1] == 0:
            return None
        if not isinstance(self.module, nn.ELU):
            return self.module(x)
        # torch's ELU computes the last numel % 32 elements of each contiguous run with a scalar formula that can
        # differ in the last bit from the vectorised one offline uses there: one run, padded to whole vectors.
        flat = x.reshape(-1)
        if flat.numel() % _VECTOR:
            flat = F.pad(flat, (0, _VECTOR - flat.numel() % _VECTOR))
        return self.module(flat.contiguous())[: x.numel()].view(x.shape)


class StreamingLSTM(StreamingLayer):
    """:class:`SLSTM` carrying ``(h, c)`` from chunk to chunk.

    torch computes a one-frame sequence's input projection as a matrix-vector product, which rounds differently
    from the matrix product of a longer sequence (measured: 1e-7), so a single frame is never run alone: it is
    rerun together with the previous call's new frames, from the state before them. A very first single frame
    waits for the next (unless it is the whole signal, which offline also runs alone).
    """

    def __init__(self, module: SLSTM) -> None:
        self.module = module
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None  # after the last frame
        self.state_before: tuple[torch.Tensor, torch.Tensor] | None = None  # before the last call's frames
        self.last: torch.Tensor | None = None  # the last call's new frames [T, B, C]
        self.held: torch.Tensor | None = None  # a first single frame, waiting

    def count(self, n: int) -> int:
        return 0 if n == 1 else n

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        if x.shape[-1] == 0:
            return None
        seq = x.permute(2, 0, 1)  # [T, B, C], sequence-first as offline
        if self.held is not None:
            seq, self.held = torch.cat([self.held, seq]), None
        if seq.shape[0] == 1 and self.last is None:
            self.held = seq
            return None
        return self._run(seq)

    def _run(self, seq: torch.Tensor) -> torch.Tensor:
        if seq.shape[0] == 1 and self.last is not None:
            y, state = self.module.lstm(torch.cat([self.last, seq]), self.state_before)
            y = y[-1:]
        else:
            y, state = self.module.lstm(seq, self.state)
        self.state_before, self.state, self.last = self.state, state, seq
        if self.module.skip:
            y = y + seq
        return y.permute(1, 2, 0)

    def flush(self) -> torch.Tensor | None:
        if self.held is None:
            return None
        seq, self.held = self.held, None
        y, self.state = self.module.lstm(seq, self.state)  # the whole signal is one frame: offline runs it alone
        return (y + seq if self.module.skip else y).permute(1, 2, 0)


class StreamingConvTranspose1d(StreamingLayer):
    """A causal :class:`SConvTranspose1d` with kernel ``2s``: output block ``t`` = f(frame ``t``, frame ``t-1``)."""

    def __init__(self, module: SConvTranspose1d) -> None:
        conv = module.convtr.convtr
        self.stride = conv.stride[0]
        if not module.causal or conv.kernel_size[0] != 2 * self.stride or module.trim() != (0, self.stride):
            raise UnsupportedStreamingError("streaming needs causal transposed convs with kernel 2·stride")
        if any(isinstance(m, nn.GroupNorm) for m in module.modules()):
            raise UnsupportedStreamingError("group norm takes statistics over the whole signal: no streaming")
        self.module = module
        self.previous: torch.Tensor | None = None  # the last input frame [B, C_in, 1]

    def count(self, n: int) -> int:
        return n * self.stride

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        frames = x.shape[-1]
        if frames == 0:
            return None
        s = self.stride
        if self.previous is None:
            # First chunk: exactly the offline computation on it, right trim included.
            y = self.module.convtr(x)[..., : frames * s]
        else:
            # Prepend the previous frame; its own block (the first s samples) was already emitted.
            y = self.module.convtr(torch.cat([self.previous, x], dim=-1))[..., s : s + frames * s]
        self.previous = x[..., -1:]
        return y
