"""The SEANet decoder's inference path: channels-last GEMM kernels, run in chunks of frames.

The plain decoder runs each layer over the whole signal: at 24 kHz, 30 s is 720 000 samples × 32 channels, so
every intermediate is a fresh ~92 MB tensor. Allocations that large are fresh ``mmap``\\ s, and faulting their
pages in costs as much as the arithmetic (more than half of the reference's 30 s decode here). Here the upsampling
stack instead runs on chunks of latent frames with scratch buffers reused from chunk to chunk, in
:mod:`codec.model.fast_ops` kernels. Each chunk carries a margin of frames on both sides that covers the stack's
receptive field; the margin's outputs (which saw a chunk edge instead of the real neighbours) are dropped, so
chunks join seamlessly. Models with time group norm need statistics over the whole segment, so they are not
chunked (their segments are 1 s anyway).

Results match the plain path to ~1e-6 (different summation order), well inside the 1e-4 the decoder is held to.
"""

from __future__ import annotations

import math
import threading

import torch
from torch import nn

from codec.model.conv import SConv1d
from codec.model.fast_layers import UnsupportedLayoutError, parse_stack
from codec.model.fast_ops import Workspace
from codec.model.lstm import SLSTM

__all__ = ["PackedDecoder", "UnsupportedLayoutError"]


class PackedDecoder:
    """Inference-only copy of a :class:`~codec.model.seanet.SEANetDecoder`'s weights in GEMM layouts.

    Built from the decoder's current weights; :meth:`is_current` says whether they have changed since (any
    in-place update bumps a tensor's version counter), so a stale copy is never used.
    """

    #: Latent frames per chunk (before margins): 128 frames (41 k samples at 24 kHz) measured fastest with 1 and 2
    #: threads among 32–192; the scratch buffers of a chunk (~40 MB) then stay mostly in the 32 MB L3 cache.
    chunk_frames: int = 128

    def __init__(self, decoder: nn.Module) -> None:
        layers = list(decoder.model)
        first_elu = next((i for i, m in enumerate(layers) if isinstance(m, nn.ELU)), None)
        if first_elu is None:
            raise UnsupportedLayoutError("decoder without activations")
        self.head = layers[:first_elu]  # conv + LSTM at frame rate: cheap, run by the modules themselves
        if not all(isinstance(m, (SConv1d, SLSTM)) for m in self.head):
            raise UnsupportedLayoutError("unexpected layers before the upsampling stack")
        self.steps = parse_stack(layers[first_elu:])
        self.grouped = any(step.has_group_norm for step in self.steps)
        self.hop = math.prod(step.upsampling for step in self.steps)
        self.margin_left, self.margin_right = self._margins()
        params = list(decoder.parameters())
        self._versions = [(p, p._version) for p in params]
        self._device, self._dtype = params[0].device, params[0].dtype
        # Scratch buffers live as long as this object (tens of MB), one set per thread: decoding segment after
        # segment then reuses warm memory instead of faulting in fresh pages every call.
        self._local = threading.local()

    def workspace(self) -> Workspace:
        """This thread's scratch buffers."""
        if not hasattr(self._local, "workspace"):
            self._local.workspace = Workspace()
        return self._local.workspace

    def is_current(self, decoder: nn.Module) -> bool:
        """Whether the packed weights still equal the decoder's (same tensors, no in-place change, same device)."""
        params = list(decoder.parameters())
        if len(params) != len(self._versions) or params[0].device != self._device or params[0].dtype != self._dtype:
            return False
        return all(p is q and p._version == v for p, (q, v) in zip(params, self._versions, strict=True))

    def _margins(self) -> tuple[int, int]:
        """Frames of context a chunk needs on each side: the receptive field, rounded up, plus one."""
        left = right = 0.0
        samples_per_frame = 1
        for step in self.steps:
            step_left, step_right = step.context()
            left += step_left / samples_per_frame
            right += step_right / samples_per_frame
            samples_per_frame *= step.upsampling
        return math.ceil(left) + 1, math.ceil(right) + 1

    def __call__(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent ``[B, D, F]`` → audio ``[B, C_audio, F · hop]``."""
        h = latent
        for module in self.head:
            h = module(h)
        batch, _, frames = h.shape
        workspace = self.workspace()
        items = [self._run_item(h[b].t(), workspace) for b in range(batch)]  # [F, C] views, rows contiguous
        out = h.new_empty(batch, items[0].shape[1], frames * self.hop)
        for b, item in enumerate(items):
            out[b].copy_(item.t())
        return out

    def _run_item(self, frames: torch.Tensor, workspace: Workspace) -> torch.Tensor:
        """One item's frames ``[F, C]`` → audio ``[F · hop, C_audio]``, chunked unless group norm forbids it."""
        total = frames.shape[0]
        if self.grouped or total <= 2 * self.chunk_frames:
            return self._run_span(frames, workspace)
        out = None
        count = total // self.chunk_frames  # equal chunks of chunk_frames to twice that: none is small
        starts = [i * total // count for i in range(count)]
        for start, stop in zip(starts, [*starts[1:], total], strict=True):
            lo, hi = max(0, start - self.margin_left), min(total, stop + self.margin_right)
            audio = self._run_span(frames[lo:hi], workspace)
            if out is None:
                out = audio.new_empty(total * self.hop, audio.shape[1])
            out[start * self.hop : stop * self.hop].copy_(audio[(start - lo) * self.hop : (stop - lo) * self.hop])
        assert out is not None
        return out

    def _run_span(self, frames: torch.Tensor, workspace: Workspace) -> torch.Tensor:
        x = frames
        for i, step in enumerate(self.steps):
            x = step(x, workspace, str(i))
        return x

