"""EnCodec's entropy-coding LM: a 5-layer streaming transformer predicting each codebook's next index.

Decoding a file needs the very probabilities the encoder used, bit for bit, so every float operation here runs in
the same order and with the same torch calls as encodec's LM (sums in codebook order, post-norm layers through
``nn.TransformerEncoderLayer``'s own attention and feed-forward blocks, the same positional formula). The module
names match the official checkpoints (``emb.{k}``, ``linears.{k}``, ``transformer.norm_in``,
``transformer.layers.{i}``), which therefore load with ``strict=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from codec.lm.stepper import LMStepper

LMState = list[torch.Tensor]
"""Per layer, the layer inputs it may still attend to: ``[B, H, dim]`` with ``H <= past_context``."""


def sin_embedding(positions: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal positions ``[1, T, 1]`` (int64) → ``[1, T, dim]`` float32 as ``cat[cos, sin]``.

    The frequencies divide by ``half_dim - 1`` (not ``half_dim``), as the trained LM expects.
    """
    half_dim = dim // 2
    steps = torch.arange(half_dim, device=positions.device).view(1, 1, -1)
    phase = positions / (max_period ** (steps / (half_dim - 1)))
    return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)


class StreamingLayer(nn.TransformerEncoderLayer):
    """A post-norm encoder layer whose queries (the new frames) attend to ``cat([past, x])`` within a window.

    The forward pass calls the very torch ops that ``nn.TransformerEncoderLayer`` and ``nn.MultiheadAttention``
    (batch-first, key is value, no weights returned) run, in the same order on the same views, but without their
    Python dispatch and checks, which cost more than the arithmetic for one frame. Only masks are cached: they are
    exact 0 / -inf values, so reusing them cannot change a bit.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._masks: dict[tuple[int, int, int], torch.Tensor] = {}

    def forward(self, x: torch.Tensor, past: torch.Tensor, past_context: int) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """``x`` ``[B, T, dim]``, ``past`` ``[B, H, dim]`` → (output ``[B, T, dim]``, this layer's input ``x``)."""
        sa_input = x
        x = self._norm(self.norm1, x + self._sa_block(sa_input, past, past_context))
        x = self._norm(self.norm2, x + self._ff_block(x))
        return x, sa_input

    @staticmethod
    def _norm(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        # Dropout is 0 (and the LM runs in eval mode), so it is the identity and is skipped.
        return F.linear(F.gelu(F.linear(x, self.linear1.weight, self.linear1.bias)),
                        self.linear2.weight, self.linear2.bias)

    def _mask(self, frames: int, history: int, past_context: int, device: torch.device) -> torch.Tensor:
        """Float mask ``[1, 1, T, H+T]``: 0 where a query sees a key (itself, ``past_context`` earlier), else -inf."""
        key = (frames, history, past_context)
        mask = self._masks.get(key)
        if mask is None or mask.device != device:
            query_pos = torch.arange(history, frames + history, device=device).view(-1, 1)
            key_pos = torch.arange(frames + history, device=device).view(1, -1)
            delta = query_pos - key_pos
            hidden = ~((delta >= 0) & (delta <= past_context))
            # What nn.MultiheadAttention makes of a bool mask, shaped as it hands it to the attention kernel.
            mask = torch.zeros_like(hidden, dtype=torch.float32).masked_fill_(hidden, float("-inf"))
            mask = mask.unsqueeze(0).unsqueeze(0)
            if len(self._masks) > 1024:  # bounded: one entry per window size actually met
                self._masks.clear()
            self._masks[key] = mask
        return mask

    def _sa_block(self, x: torch.Tensor, past: torch.Tensor, past_context: int) -> torch.Tensor:  # type: ignore[override]
        batch, frames, dim = x.shape
        history = past.shape[1]
        attn = self.self_attn
        num_heads = attn.num_heads
        head_dim = dim // num_heads
        keys = torch.cat([past, x], dim=1)
        mask = self._mask(frames, history, past_context, x.device)
        if mask.dtype != x.dtype:
            mask = mask.to(x.dtype)
        # nn.MultiheadAttention (batch_first, key is value): sequence-first views, then the packed projection.
        query, key = x.transpose(1, 0), keys.transpose(1, 0)
        w_q, w_kv = attn.in_proj_weight.split([dim, dim * 2])
        b_q, b_kv = attn.in_proj_bias.split([dim, dim * 2])
        q = F.linear(query, w_q, b_q)
        kv = F.linear(key, w_kv, b_kv).unflatten(-1, (2, dim)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
        k, v = kv[0], kv[1]
        source = k.shape[0]
        q = q.view(frames, batch * num_heads, head_dim).transpose(0, 1).view(batch, num_heads, frames, head_dim)
        k = k.view(source, batch * num_heads, head_dim).transpose(0, 1).view(batch, num_heads, source, head_dim)
        v = v.view(source, batch * num_heads, head_dim).transpose(0, 1).view(batch, num_heads, source, head_dim)
        out = F.scaled_dot_product_attention(q, k, v, mask, 0.0, False)
        out = out.permute(2, 0, 1, 3).reshape(batch * frames, dim)
        out = F.linear(out, attn.out_proj.weight, attn.out_proj.bias).view(frames, batch, dim)
        return out.transpose(1, 0)


class StreamingTransformer(nn.Module):
    """Input LayerNorm, sinusoidal positions, then :class:`StreamingLayer` s with a bounded memory."""

    def __init__(self, dim: int, num_layers: int, past_context: int, num_heads: int = 8, hidden_scale: float = 4.0,
                 max_period: float = 10_000.0) -> None:
        super().__init__()
        self.max_period = max_period
        self.past_context = past_context
        self.norm_in = nn.LayerNorm(dim)
        self.layers = nn.ModuleList([
            StreamingLayer(dim, num_heads, int(dim * hidden_scale), dropout=0.0, activation=F.gelu, batch_first=True)
            for _ in range(num_layers)
        ])

    def forward(self, x: torch.Tensor, states: LMState | None, offset: int) -> tuple[torch.Tensor, LMState, int]:
        """``x`` ``[B, T, dim]`` at positions ``offset..offset+T-1`` → (``[B, T, dim]``, new states, new offset)."""
        _, frames, channels = x.shape
        if states is None:
            # Each layer starts with one zero frame in its memory, which stays visible until it leaves the window.
            states = [torch.zeros_like(x[:, :1]) for _ in range(len(self.layers))]
        positions = torch.arange(frames, device=x.device).view(1, -1, 1) + offset
        x = F.layer_norm(x, self.norm_in.normalized_shape, self.norm_in.weight, self.norm_in.bias, self.norm_in.eps)
        x = x + sin_embedding(positions, channels, self.max_period)
        new_states: LMState = []
        for state, layer in zip(states, self.layers, strict=True):
            x, layer_input = layer.forward(x, state, self.past_context)  # no hooks: skip Module.__call__
            new_states.append(torch.cat([state, layer_input], dim=1)[:, -self.past_context :, :])
        return x, new_states, offset + frames


class LMModel(nn.Module):
    """Predicts, for every codebook, a distribution over its ``card`` indices given the previous frames.

    Parameters
    ----------
    n_q : int
        Codebooks the LM knows (32 at 24 kHz, 16 at 48 kHz); a file may use fewer.
    card : int
        Indices per codebook (1024). Embeddings have ``card + 1`` rows: row 0 means "no previous frame".
    dim : int
        Transformer width (200).
    num_layers : int
        Transformer layers (5).
    past_context : int
        Frames each new frame may look back at: ``int(3.5 * frame_rate)``.
    """

    def __init__(self, n_q: int = 32, card: int = 1024, dim: int = 200, num_layers: int = 5,
                 past_context: int = 262) -> None:
        super().__init__()
        self.n_q = n_q
        self.card = card
        self.dim = dim
        # Torch threads the coding steps run with. MKL's bits for short products depend on the thread count, so a
        # file decodes only with the count it was written with; one thread makes files independent of the caller's
        # setting (encodec 0.1.1 uses whatever torch has: set this to read its files written with more).
        self.coding_threads = 1
        self.transformer = StreamingTransformer(dim, num_layers, past_context)
        self.emb = nn.ModuleList([nn.Embedding(card + 1, dim) for _ in range(n_q)])
        self.linears = nn.ModuleList([nn.Linear(dim, card) for _ in range(n_q)])

    @property
    def past_context(self) -> int:
        return self.transformer.past_context

    def stepper(self, block_frames: int = 32) -> LMStepper:
        """A fresh stream of steps, bit-identical to :meth:`forward` one frame at a time and faster; known frames
        can go in blocks of up to ``block_frames`` (see ``codec.lm.stepper``)."""
        from codec.lm.stepper import LMStepper  # the stepper module builds on this one

        return LMStepper(self, block_frames)

    def forward(self, indices: torch.Tensor, states: LMState | None = None,
                offset: int = 0) -> tuple[torch.Tensor, LMState, int]:
        """Probabilities of the next frame's codes.

        Parameters
        ----------
        indices : torch.Tensor
            int64 ``[B, K, T]``: ``1 + code`` of the previous frames, 0 where there is none (the first step).
        states : list of torch.Tensor or None
            What the previous call returned; None to start a stream.
        offset : int
            Position of the first of these frames in the stream (what the previous call returned).

        Returns
        -------
        probas : torch.Tensor
            float32 ``[B, card, K, T]``, a softmax over ``card``.
        states : list of torch.Tensor
            The new streaming state.
        offset : int
            ``offset + T``.
        """
        num_codebooks = indices.shape[1]
        # Python's sum (0 + e0 + e1 + ...) in codebook order: the float result must match the trained LM's code.
        x = sum([F.embedding(indices[:, k], self.emb[k].weight) for k in range(num_codebooks)])
        out, states, offset = self.transformer.forward(x, states, offset)
        linears = self.linears
        logits = torch.stack([F.linear(out, linears[k].weight, linears[k].bias) for k in range(num_codebooks)],
                             dim=1).permute(0, 3, 1, 2)
        return torch.softmax(logits, dim=1), states, offset


def build_lm(n_q: int, frame_rate: int, card: int = 1024) -> LMModel:
    """An LM with the official architecture for a model with ``n_q`` codebooks at ``frame_rate`` frames/s."""
    return LMModel(n_q=n_q, card=card, dim=200, num_layers=5, past_context=int(3.5 * frame_rate)).eval()
