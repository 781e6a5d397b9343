"""The entropy-coding LM frame by frame, with each layer's key/value projections kept instead of recomputed.

encodec's LM re-projects the keys and values of its whole window (up to ``past_context + 1`` rows, five layers) at
every frame, which is most of its cost. Keeping each row's projection is only allowed if it has the bits the whole
window's product would give that row, because the decoder must rebuild the encoder's probabilities exactly, and
the reference decodes our files. MKL gives a row the same bits whatever the number of rows in the product, except
when the product is small enough (or split across threads so) that a row lands in a short edge block: with one
thread, windows of 2 or 3 rows; with two threads, also 5-11. Which window sizes keep that property depends on the
CPU and thread count, so it is measured, not assumed: :func:`window_rows_match` compares the whole-window product
of random rows with the cached row products, once per window size, thread count and weight shape in a process
(the GEMM's path does not depend on the values it multiplies). A step whose window size fails runs the
reference's whole-window product instead. Everything else runs the very ops of :class:`~codec.lm.model.LMModel`
on the same shapes; frames known in advance (encoding) only run them in another order, see :class:`LMStepper`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from codec.lm.model import LMModel, StreamingLayer, sin_embedding

_PAD_ROWS = 4
"""A cached row is projected as the last row of a product of this many rows (the others zero): with 4 or more
rows MKL takes its regular kernel, whose bits do not depend on the other rows."""

_MATCHES: dict[tuple[int, int, int, int], bool] = {}
_PROBES: dict[tuple[int, int, int], _Probe] = {}


def project_row(row: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """One row's projection ``[dim] -> [out]`` as a row of a ``_PAD_ROWS``-row product; ``pad`` is ``[4, dim]``."""
    pad[-1].copy_(row)
    return F.linear(pad, weight, bias)[-1]


def window_product(rows: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """What the reference computes: ``rows`` ``[1, M, dim]`` taken sequence-first ``[M, 1, dim]`` → ``[M, 1, out]``."""
    return F.linear(rows.transpose(1, 0), weight, bias)


class _Probe:
    """Random rows and weights laid out as the LM's key/value projection (a view into a ``[3 dim, dim]`` matrix),
    with each row's :func:`project_row` result, to test window sizes against."""

    def __init__(self, dim: int, out_dim: int) -> None:
        generator = torch.Generator().manual_seed(dim)
        packed = torch.randn(dim + out_dim, dim, generator=generator) / dim**0.5
        self.weight = packed.split([dim, out_dim])[1]
        self.bias = torch.randn(dim + out_dim, generator=generator).split([dim, out_dim])[1]
        self.rows = torch.zeros(0, dim)
        self.projected = torch.zeros(0, out_dim)
        self._generator = generator

    def grow(self, count: int) -> None:
        """Have at least ``count`` rows and their single-row projections."""
        have, dim = self.rows.shape
        if count <= have:
            return
        extra = F.layer_norm(torch.randn(max(count - have, 64), dim, generator=self._generator), (dim,))
        pad = torch.zeros(_PAD_ROWS, dim)
        projected = torch.stack([project_row(row, self.weight, self.bias, pad) for row in extra])
        self.rows = torch.cat([self.rows, extra])
        self.projected = torch.cat([self.projected, projected])


def window_rows_match(window: int, dim: int, out_dim: int) -> bool:
    """Whether a ``window``-row product gives every row the bits of :func:`project_row`, at this thread count.

    Measured on random rows once per process and case: which kernel MKL runs depends on the shapes and thread
    count, not on the values, and two different summation orders agreeing on every bit of random data by chance is
    out of the question.
    """
    threads = torch.get_num_threads()
    key = (threads, window, dim, out_dim)
    matched = _MATCHES.get(key)
    if matched is None:
        probe = _PROBES.get(key[:1] + key[2:])
        if probe is None:
            probe = _PROBES[key[:1] + key[2:]] = _Probe(dim, out_dim)
        probe.grow(window)
        rows = probe.rows[:window].clone().unsqueeze(0)  # fresh and contiguous, as the reference's cat() makes
        whole = window_product(rows, probe.weight, probe.bias).view(window, out_dim)
        matched = _MATCHES[key] = torch.equal(whole, probe.projected[:window])
    return matched


class _LayerCache:
    """One layer's window: its inputs ``[rows, dim]`` and their key/value projections ``[2, rows, 1, dim]``.

    Rows live in buffers longer than the window so that every frame's window is one contiguous slice, ordered as
    the reference's ``cat([past, x])``; when a block would not fit, the window moves back to the start.
    """

    def __init__(self, past_context: int, dim: int, block_frames: int) -> None:
        self.past_context = past_context
        rows = 2 * (past_context + 1) + block_frames
        self.inputs = torch.zeros(rows, dim)
        self.kv = torch.zeros(2, rows, 1, dim)
        self.start = 0
        self.end = 0

    def reserve(self, frames: int) -> None:
        """Make room for ``frames`` more rows after the end."""
        if self.end + frames > self.inputs.shape[0]:
            kept = self.end - self.start
            self.inputs[:kept] = self.inputs[self.start : self.end].clone()
            self.kv[:, :kept] = self.kv[:, self.start : self.end].clone()
            self.start, self.end = 0, kept

    def append(self, row: torch.Tensor, kv_row: torch.Tensor) -> None:
        self.inputs[self.end].copy_(row)
        self.kv[:, self.end, 0].copy_(kv_row.view(2, -1))
        self.end += 1

    def window(self, position: int) -> tuple[int, int]:
        """Rows the frame at buffer row ``position`` attends to: itself and up to ``past_context`` before it."""
        return max(self.start, position - self.past_context), position + 1

    def trim(self) -> None:
        self.start = max(self.start, self.end - self.past_context)


class _LayerWeights:
    """One layer's tensors, looked up once (views of the LM's parameters, so they follow later loads)."""

    def __init__(self, layer: StreamingLayer) -> None:
        attn = layer.self_attn
        dim = attn.embed_dim
        self.w_q, self.w_kv = attn.in_proj_weight.split([dim, dim * 2])
        self.b_q, self.b_kv = attn.in_proj_bias.split([dim, dim * 2])
        self.w_out, self.b_out = attn.out_proj.weight, attn.out_proj.bias
        self.num_heads, self.head_dim = attn.num_heads, dim // attn.num_heads
        self.w_ff1, self.b_ff1 = layer.linear1.weight, layer.linear1.bias
        self.w_ff2, self.b_ff2 = layer.linear2.weight, layer.linear2.bias
        self.norm1 = (layer.norm1.normalized_shape, layer.norm1.weight, layer.norm1.bias, layer.norm1.eps)
        self.norm2 = (layer.norm2.normalized_shape, layer.norm2.weight, layer.norm2.bias, layer.norm2.eps)


class LMStepper:
    """Probabilities of each next frame's codes, equal bit for bit to ``LMModel`` run one frame at a time.

    :meth:`step` takes one frame (decoding: the next frame depends on what was decoded). :meth:`steps` takes a block
    of frames known in advance (encoding) and runs it layer by layer, each operation over the whole block before
    the next: every frame still gets exactly its own one-frame operations, but each weight matrix is read from
    memory once per block instead of once per frame.

    Parameters
    ----------
    lm : LMModel
        The LM (eval mode); its weights are read, not copied.
    block_frames : int
        The most frames one :meth:`steps` call takes.
    """

    def __init__(self, lm: LMModel, block_frames: int = 32) -> None:
        weight = lm.emb[0].weight
        if weight.device.type != "cpu" or weight.dtype != torch.float32:
            # Which products keep a row's bits is measured for MKL on the CPU, and the format's LM is float32.
            raise ValueError(f"the LM coder runs on the CPU in float32, not {weight.device.type} {weight.dtype}")
        self.lm = lm
        self.offset = 0
        self.block_frames = block_frames
        transformer = lm.transformer
        self._layers = [_LayerWeights(layer) for layer in transformer.layers]
        self._embeddings = [emb.weight for emb in lm.emb]
        self._outputs = [(linear.weight, linear.bias) for linear in lm.linears]
        norm_in = transformer.norm_in
        self._norm_in = (norm_in.normalized_shape, norm_in.weight, norm_in.bias, norm_in.eps)
        self._caches = [_LayerCache(transformer.past_context, lm.dim, block_frames) for _ in self._layers]
        self._pad = torch.zeros(_PAD_ROWS, lm.dim)
        self._masks: dict[int, torch.Tensor] = {}
        for cache, weights in zip(self._caches, self._layers, strict=True):
            zero = torch.zeros(lm.dim)  # every layer's window starts with one zero frame, as in the reference
            cache.append(zero, project_row(zero, weights.w_kv, weights.b_kv, self._pad))

    def step(self, indices: torch.Tensor) -> torch.Tensor:
        """``indices`` int64 ``[1, K, 1]``, ``1 + code`` of the previous frame (0 at first) → ``[1, card, K, 1]``."""
        return self.steps(indices.unsqueeze(0))[0]

    def steps(self, indices: torch.Tensor) -> list[torch.Tensor]:
        """``indices`` int64 ``[N, 1, K, 1]`` for N consecutive frames → N probabilities ``[1, card, K, 1]``."""
        frames = indices.shape[0]
        if not 0 < frames <= self.block_frames:
            raise ValueError(f"a block holds 1 to {self.block_frames} frames, got {frames}")
        xs = [self._input(frame_indices) for frame_indices in indices]
        for cache, weights in zip(self._caches, self._layers, strict=True):
            xs = self._layer(weights, cache, xs)
        num_codebooks = indices.shape[2]
        per_codebook = [[F.linear(x, *self._outputs[k]) for x in xs] for k in range(num_codebooks)]
        return [torch.softmax(torch.stack([per_codebook[k][i] for k in range(num_codebooks)], dim=1)
                              .permute(0, 3, 1, 2), dim=1) for i in range(frames)]

    def _input(self, indices: torch.Tensor) -> torch.Tensor:
        """Embedding sum, input norm and position of one frame → ``[1, 1, dim]``."""
        x = sum([F.embedding(indices[:, k], self._embeddings[k]) for k in range(indices.shape[1])])
        positions = torch.arange(1).view(1, -1, 1) + self.offset
        self.offset += 1
        x = F.layer_norm(x, *self._norm_in)
        return x + sin_embedding(positions, self.lm.dim, self.lm.transformer.max_period)

    def _layer(self, weights: _LayerWeights, cache: _LayerCache, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """``StreamingLayer.forward`` for each frame ``[1, 1, dim]`` of a block, one operation at a time."""
        w_kv, b_kv = weights.w_kv, weights.b_kv
        cache.reserve(len(xs))
        first = cache.end
        for x in xs:
            row = x.view(-1)
            cache.append(row, project_row(row, w_kv, b_kv, self._pad))
        queries = [F.linear(x.transpose(1, 0), weights.w_q, weights.b_q) for x in xs]
        attended = [self._attend(weights, cache, q, first + i) for i, q in enumerate(queries)]
        outs = [F.linear(a, weights.w_out, weights.b_out).view(1, 1, -1).transpose(1, 0) for a in attended]
        cache.trim()
        xs = [F.layer_norm(x + out, *weights.norm1) for x, out in zip(xs, outs, strict=True)]
        hidden = [F.gelu(F.linear(x, weights.w_ff1, weights.b_ff1)) for x in xs]
        ffs = [F.linear(h, weights.w_ff2, weights.b_ff2) for h in hidden]
        return [F.layer_norm(x + ff, *weights.norm2) for x, ff in zip(xs, ffs, strict=True)]

    def _attend(self, weights: _LayerWeights, cache: _LayerCache, q: torch.Tensor, position: int) -> torch.Tensor:
        """Attention of one frame's query ``q`` ``[1, 1, dim]`` over its window → ``[1, dim]`` (before out_proj)."""
        start, end = cache.window(position)
        window = end - start
        w_kv, b_kv = weights.w_kv, weights.b_kv
        if window_rows_match(window, w_kv.shape[1], w_kv.shape[0]):
            kv = cache.kv[:, start:end]
        else:  # the reference's whole-window product, on a fresh contiguous copy as its cat() makes
            keys = cache.inputs[start:end].clone().unsqueeze(0)
            kv = window_product(keys, w_kv, b_kv).unflatten(-1, (2, -1)).unsqueeze(0).transpose(0, -2)
            kv = kv.squeeze(-2).contiguous()
        heads, head_dim = weights.num_heads, weights.head_dim
        mask = self._masks.get(window)
        if mask is None:  # one query seeing its whole window: all zeros, shaped as the reference's float mask
            mask = self._masks[window] = torch.zeros(1, 1, 1, window)
        q = q.view(1, heads, head_dim).transpose(0, 1).view(1, heads, 1, head_dim)
        k = kv[0].view(window, heads, head_dim).transpose(0, 1).view(1, heads, window, head_dim)
        v = kv[1].view(window, heads, head_dim).transpose(0, 1).view(1, heads, window, head_dim)
        out = F.scaled_dot_product_attention(q, k, v, mask, 0.0, False)
        return out.permute(2, 0, 1, 3).reshape(1, heads * head_dim)
