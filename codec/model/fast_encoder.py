"""The SEANet encoder's inference path: the reference's arithmetic exactly, with far less memory traffic.

Codes must equal the reference's bit for bit, and the residual quantizer's nearest-code search flips on the
smallest change of a latent, so every floating-point operation here is one the reference performs, on the same
values, with the same kernel: the same ``F.conv1d`` calls, the same ``GroupNorm`` and LSTM modules, the same ELU.
(ELU is not layout-proof: torch computes a vectorised ``expm1`` on most elements but a scalar ``exp(x) - 1`` on
the last ``numel % 32`` of each contiguous run, and the two differ in the last bit for ~20 % of inputs. So ELU
is never written straight into a padded buffer, which would split it into one run per channel.)

What changes is what moves bytes, which cannot change a value:

* Long inputs run through the strided layers in chunks of about a second (with margins covering the receptive
  field, dropped afterwards) when every op then gets the same values and kernel (:func:`_chunkable`,
  :func:`_same_kernels`; the tests compare with the whole-signal path and the reference).
  Whole-signal intermediates at 24 kHz are ~92 MB for 30 s; each is a fresh ``mmap`` whose page faults cost as
  much as a convolution; they are about a third of the reference's 30 s encode here. Chunks stay in cache.
* Reflect padding is a copy of the signal into a new buffer plus two small mirrored copies;
  ``torch.nn.functional.pad(mode="reflect")`` took 7–35 ms per call on ``[1, 32, 240 000]`` here.
* 1×1 convolutions get their input as is: the reference "reflect-pads" them by zero samples, a full copy.
* ELU before a downsampling conv, and after the first conv of a residual block, runs in place (same loop, same
  bits) instead of allocating, and the residual sum adds into the block's output.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from codec.model.conv import SConv1d, pad1d


def reflect_pad(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """``pad1d(x, left, right, "reflect")`` for ``[B, C, T]`` by copies only (the same values, bit for bit)."""
    length = x.shape[-1]
    if length <= max(left, right):
        return pad1d(x, left, right)  # the zero-extension corner case: rare and tiny
    out = x.new_empty(*x.shape[:-1], left + length + right)
    out[..., left : left + length].copy_(x)
    if left:
        out[..., :left].copy_(x[..., 1 : left + 1].flip(-1))
    if right:
        out[..., left + length :].copy_(x[..., length - 1 - right : length - 1].flip(-1))
    return out


def _elu(x: torch.Tensor, owned: bool) -> torch.Tensor:
    # In place only on our own contiguous intermediates: the loop (and so every bit) is then the same as
    # the reference's out-of-place ELU. Inputs we do not own, or odd layouts, get the reference's exact call.
    if owned and x.is_contiguous():
        return F.elu(x, inplace=True)
    return F.elu(x)


def sconv(module: SConv1d, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with fast reflect padding and no copy for unpadded (1×1) convolutions."""
    left, right = module.padding_for(x.shape[-1])
    if left or right:
        if module.pad_mode != "reflect":
            return module(x)
        x = reflect_pad(x, left, right)
    return module.conv(x)


def run_layers(layers: list[nn.Module], x: torch.Tensor, owned: bool) -> torch.Tensor:
    """Apply ``layers`` like ``nn.Sequential`` (same arithmetic), ``owned`` = ``x`` may be overwritten."""
    from codec.model.seanet import ResidualUnit

    for layer in layers:
        if isinstance(layer, nn.ELU) and layer.alpha == 1.0:
            x = _elu(x, owned)
        elif isinstance(layer, SConv1d):
            x = sconv(layer, x)
        elif isinstance(layer, ResidualUnit):
            x = residual(layer, x)
        else:
            x = layer(x)
        owned = True
    return x


def residual(unit: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``shortcut(x) + block(x)``; the block's first ELU must not touch ``x``, which the shortcut still needs."""
    block = run_layers(list(unit.block), x, owned=False)
    shortcut = x if isinstance(unit.shortcut, nn.Identity) else run_layers([unit.shortcut], x, owned=False)
    # The reference computes shortcut + block; IEEE addition is commutative, so this is the same sum.
    return block.add_(shortcut)


def encoder_forward(encoder: nn.Module, x: torch.Tensor, chunk_frames: int) -> torch.Tensor:
    """Audio ``[B, C, T]`` → latent ``[B, D, F]``, bit-identical to ``encoder.model(x)``.

    Long inputs run the strided part in chunks of ``chunk_frames`` latent frames when that is provably the
    same arithmetic (see :func:`_chunkable`); the LSTM and the last conv then see the whole latent sequence.
    """
    layers = list(encoder.model)
    split = _last_strided(layers)
    hop = math.prod(layer.conv.conv.stride[0] for layer in layers[:split] if isinstance(layer, SConv1d))
    chunk = chunk_frames * hop
    if split == 0 or x.shape[-1] < 2 * chunk or not _chunkable(layers[:split]):
        return run_layers(layers, x, owned=False)
    latent = _chunked(layers[:split], x, chunk, hop)
    if latent is None:
        return run_layers(layers, x, owned=False)
    return run_layers(layers[split:], latent, owned=True)


def _last_strided(layers: list[nn.Module]) -> int:
    """Index after the last strided conv: everything before runs at audio rate, the rest at frame rate."""
    strided = [i for i, layer in enumerate(layers) if isinstance(layer, SConv1d) and layer.conv.conv.stride[0] > 1]
    return strided[-1] + 1 if strided else 0


def _chunkable(layers: list[nn.Module]) -> bool:
    """Whether running ``layers`` chunk by chunk gives the whole-signal bits.

    Convolutions compute each output from its own window in a fixed order, whatever the signal's length (checked
    in the tests for every layer shape), and padding, copies and additions are exact. Two things are not
    position-independent. Group norm takes statistics over the whole signal. ELU computes the last
    ``numel % 32`` elements of each contiguous run with a scalar formula that differs from the vectorised one in
    the last bit; with one thread the only such run is the whole tensor, and chunks that start on a hop boundary
    end their runs at the same samples as the whole signal, so they agree. With more threads torch also splits
    the tensor in the middle, at a place that depends on its length; those runs do not line up, so no chunking.
    """
    if torch.get_num_threads() != 1:
        return False
    return not any(isinstance(m, nn.GroupNorm) for layer in layers for m in layer.modules())


def _context(layers: list[nn.Module]) -> tuple[int, int]:
    """Input samples left and right of a frame's own samples that its value depends on (receptive field)."""
    from codec.model.seanet import ResidualUnit

    left = right = 0
    scale = 1  # input samples per sample at the current layer
    for layer in layers:
        convs = [layer] if isinstance(layer, SConv1d) else []
        if isinstance(layer, ResidualUnit):
            convs = [m for m in layer.block if isinstance(m, SConv1d)]
        for conv in convs:
            kernel = (conv.conv.conv.kernel_size[0] - 1) * conv.conv.conv.dilation[0] + 1
            stride = conv.conv.conv.stride[0]
            pad_left, _ = conv.padding_for(stride * 10**6)
            left += pad_left * scale
            right += (kernel - pad_left - stride) * scale
            scale *= stride
    return left, right


def _chunked(layers: list[nn.Module], x: torch.Tensor, chunk: int, hop: int) -> torch.Tensor | None:
    """``layers`` over ``x`` chunk by chunk, each with margins covering the receptive field, margins dropped.

    None when some chunk would be too small to take the same convolution kernels as the whole signal.
    """
    length = x.shape[-1]
    context_left, context_right = _context(layers)
    # Whole hops keep every layer's frames aligned with the full signal's; one spare hop guards off-by-ones.
    margin_left = (math.ceil(context_left / hop) + 1) * hop
    margin_right = (math.ceil(context_right / hop) + 1) * hop if context_right else 0
    count = max(1, length // chunk)  # equal chunks of chunk to 2·chunk samples, on hop boundaries: none is small
    starts = [i * length // count // hop * hop for i in range(count)]
    stops = [*starts[1:], length]
    spans = [(max(0, a - margin_left), min(length, b + margin_right)) for a, b in zip(starts, stops, strict=True)]
    if not _same_kernels(layers, x.shape[0], min(hi - lo for lo, hi in spans)):
        return None
    out = None
    for start, stop, (lo, hi) in zip(starts, stops, spans, strict=True):
        y = run_layers(layers, x[..., lo:hi], owned=False)
        first, frames = (start - lo) // hop, math.ceil(stop / hop) - start // hop
        if out is None:
            out = y.new_empty(*y.shape[:-1], math.ceil(length / hop))
        out[..., start // hop : start // hop + frames].copy_(y[..., first : first + frames])
    return out


# torch runs a one-thread conv with a kernel wider than 1 through oneDNN only when its input has more elements
# than this (`use_mkldnn` in aten/src/ATen/native/ConvUtils.h), else through im2col + GEMM, which sums in another
# order. Every chunk must stay above it, as the whole signal does, to get the same bits.
ONEDNN_MIN_NUMEL = 20480


def _same_kernels(layers: list[nn.Module], batch: int, length: int) -> bool:
    """Whether every conv wider than 1 gets more than ``ONEDNN_MIN_NUMEL`` input elements for ``length``."""
    from codec.model.seanet import ResidualUnit

    for layer in layers:
        convs = [layer] if isinstance(layer, SConv1d) else []
        if isinstance(layer, ResidualUnit):
            convs = [m for m in layer.block if isinstance(m, SConv1d)]
        for conv in convs:
            inner = conv.conv.conv
            left, right = conv.padding_for(length)
            if inner.kernel_size[0] > 1 and batch * inner.in_channels * (length + left + right) <= ONEDNN_MIN_NUMEL:
                return False
            length = math.ceil(length / inner.stride[0])
    return True
