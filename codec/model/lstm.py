"""The LSTM with a skip connection that sits at the bottleneck of SEANet."""

from __future__ import annotations

import torch
from torch import nn


class SLSTM(nn.Module):
    """Unidirectional LSTM over time with ``y = lstm(x) + x``. Input and output ``[B, C, T]``."""

    def __init__(self, dimension: int, num_layers: int = 2, skip: bool = True) -> None:
        super().__init__()
        self.skip = skip
        self.lstm = nn.LSTM(dimension, dimension, num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(2, 0, 1)  # [T, B, C]: the reference runs the LSTM sequence-first
        y, _ = self.lstm(x)
        if self.skip:
            y = y + x
        return y.permute(1, 2, 0)
