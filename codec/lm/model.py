"""EnCodec's entropy-coding LM: a 5-layer streaming transformer predicting each codebook's next index.

Decoding a file needs the very probabilities the encoder used, bit for bit, so every float operation here runs in
the same order and with the same torch calls as encodec's LM (sums in codebook order, post-norm layers through
``nn.TransformerEncoderLayer``'s own attention and feed-forward blocks, the same positional formula). The module
names match the official checkpoints (``emb.{k}``, ``linears.{k}``, ``transformer.norm_in``,
``transformer.layers.{i}``), which therefore load with ``strict=True``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
    """A post-norm encoder layer whose queries (the new frames) attend to ``cat([past, x])`` within a window."""

    def forward(self, x: torch.Tensor, past: torch.Tensor, past_context: int) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """``x`` ``[B, T, dim]``, ``past`` ``[B, H, dim]`` → (output ``[B, T, dim]``, this layer's input ``x``)."""
        sa_input = x
        x = self.norm1(x + self._sa_block(sa_input, past, past_context))
        x = self.norm2(x + self._ff_block(x))
        return x, sa_input

    def _sa_block(self, x: torch.Tensor, past: torch.Tensor, past_context: int) -> torch.Tensor:  # type: ignore[override]
        _, frames, _ = x.shape
        _, history, _ = past.shape
        keys = torch.cat([past, x], dim=1)
        query_pos = torch.arange(history, frames + history, device=x.device).view(-1, 1)
        key_pos = torch.arange(frames + history, device=x.device).view(1, -1)
        delta = query_pos - key_pos
        # A query sees itself and at most ``past_context`` earlier frames, never the future.
        visible = (delta >= 0) & (delta <= past_context)
        out = self.self_attn(x, keys, keys, attn_mask=~visible, need_weights=False)[0]
        return self.dropout1(out)


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
        x = self.norm_in(x)
        x = x + sin_embedding(positions, channels, self.max_period)
        new_states: LMState = []
        for state, layer in zip(states, self.layers, strict=True):
            x, layer_input = layer(x, state, self.past_context)
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
        self.transformer = StreamingTransformer(dim, num_layers, past_context)
        self.emb = nn.ModuleList([nn.Embedding(card + 1, dim) for _ in range(n_q)])
        self.linears = nn.ModuleList([nn.Linear(dim, card) for _ in range(n_q)])

    @property
    def past_context(self) -> int:
        return self.transformer.past_context

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
        x = sum([self.emb[k](indices[:, k]) for k in range(num_codebooks)])
        out, states, offset = self.transformer(x, states, offset)
        logits = torch.stack([self.linears[k](out) for k in range(num_codebooks)], dim=1).permute(0, 3, 1, 2)
        return torch.softmax(logits, dim=1), states, offset


def build_lm(n_q: int, frame_rate: int, card: int = 1024) -> LMModel:
    """An LM with the official architecture for a model with ``n_q`` codebooks at ``frame_rate`` frames/s."""
    return LMModel(n_q=n_q, card=card, dim=200, num_layers=5, past_context=int(3.5 * frame_rate)).eval()
