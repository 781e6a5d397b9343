"""Euclidean codebooks with EMA updates, k-means initialisation and dead-code replacement.

Buffer names (``inited``, ``cluster_size``, ``embed``, ``embed_avg``) and the module nesting
(``vq.layers.N._codebook``) are those of the official checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _sample_vectors(samples: torch.Tensor, num: int) -> torch.Tensor:
    """``num`` rows of ``samples`` [N, D]: without replacement when there are enough, else with."""
    count = samples.shape[0]
    if count >= num:
        indices = torch.randperm(count, device=samples.device)[:num]
    else:
        indices = torch.randint(0, count, (num,), device=samples.device)
    return samples[indices]


def nearest_code(x: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook row for each row of ``x`` [N, D]; ``embed`` [K, D] → [N].

    Uses the expanded distance ``|x|² - 2 x·e + |e|²`` in exactly this order, and ``max`` tie-breaking, because
    codes must equal the reference's bit for bit.
    """
    embed_t = embed.t()
    dist = -(x.pow(2).sum(1, keepdim=True) - 2 * x @ embed_t + embed_t.pow(2).sum(0, keepdim=True))
    return dist.max(dim=-1).indices


def kmeans(samples: torch.Tensor, num_clusters: int, num_iters: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means on ``samples`` [N, D] → (means [K, D], counts [K]); empty clusters keep their mean."""
    means = _sample_vectors(samples, num_clusters)
    counts = torch.zeros(num_clusters, dtype=torch.long, device=samples.device)
    for _ in range(num_iters):
        assignment = nearest_code(samples, means)
        counts = torch.bincount(assignment, minlength=num_clusters)
        empty = counts == 0
        sums = torch.zeros_like(means).index_add_(0, assignment, samples)
        new_means = sums / counts.clamp(min=1).unsqueeze(1).to(samples.dtype)
        means = torch.where(empty.unsqueeze(1), means, new_means)
    return means, counts


class EuclideanCodebook(nn.Module):
    """One codebook of ``codebook_size`` vectors of ``dim`` floats, learnt by EMA (not by gradient)."""

    def __init__(self, dim: int, codebook_size: int, kmeans_init: bool = True, kmeans_iters: int = 50,
                 decay: float = 0.99, epsilon: float = 1e-5, threshold_ema_dead_code: float = 2) -> None:
        super().__init__()
        self.decay = decay
        self.epsilon = epsilon
        self.codebook_size = codebook_size
        self.kmeans_iters = kmeans_iters
        self.threshold_ema_dead_code = threshold_ema_dead_code
        if kmeans_init:
            embed = torch.zeros(codebook_size, dim)
        else:
            embed = nn.init.kaiming_uniform_(torch.empty(codebook_size, dim))
        self.register_buffer("inited", torch.tensor([float(not kmeans_init)]))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", embed)
        self.register_buffer("embed_avg", embed.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [..., D] → codes [...] (int64)."""
        return nearest_code(x.reshape(-1, x.shape[-1]), self.embed).view(*x.shape[:-1])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [...] → vectors [..., D]."""
        return F.embedding(codes, self.embed)

    @torch.no_grad()
    def init_from(self, x: torch.Tensor) -> None:
        """k-means initialisation on the first batch ``x`` [N, D] (no-op once initialised)."""
        if self.inited.item():
            return
        embed, counts = kmeans(x, self.codebook_size, self.kmeans_iters)
        self.embed.copy_(embed)
        self.embed_avg.copy_(embed)
        self.cluster_size.copy_(counts.to(self.cluster_size.dtype))
        self.inited.fill_(1.0)

    @torch.no_grad()
    def replace_dead_codes(self, x: torch.Tensor) -> None:
        """Codes used less than the threshold (EMA count) take a random vector of the batch ``x`` [N, D]."""
        if self.threshold_ema_dead_code <= 0:
            return
        dead = self.cluster_size < self.threshold_ema_dead_code
        if dead.any():
            replacement = _sample_vectors(x, self.codebook_size)
            self.embed.copy_(torch.where(dead.unsqueeze(1), replacement, self.embed))

    @torch.no_grad()
    def ema_update(self, x: torch.Tensor, codes: torch.Tensor) -> None:
        """One EMA step of counts and sums, then Laplace-smoothed means. ``x`` [N, D], codes [N]."""
        onehot = F.one_hot(codes, self.codebook_size).to(x.dtype)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(onehot.t() @ x, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        self.embed.copy_(self.embed_avg / smoothed.unsqueeze(1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training/analysis step on ``x`` [..., D] → (quantized [..., D], codes [...]).

        Initialises by k-means on first use (also in eval mode, as the reference), and in training mode
        replaces dead codes and takes an EMA step.
        """
        flat = x.reshape(-1, x.shape[-1]).detach()
        self.init_from(flat)
        codes = nearest_code(flat, self.embed)
        quantized = F.embedding(codes, self.embed).view_as(x)
        if self.training:
            self.replace_dead_codes(flat)
            self.ema_update(flat, codes)
        return quantized, codes.view(*x.shape[:-1])


class VectorQuantization(nn.Module):
    """One RVQ layer on ``[B, D, T]`` latents; the reference's wrapper around a codebook."""

    def __init__(self, dim: int, codebook_size: int, **codebook_kwargs: float) -> None:
        super().__init__()
        self.project_in = nn.Identity()
        self.project_out = nn.Identity()
        self._codebook = EuclideanCodebook(dim, codebook_size, **codebook_kwargs)  # type: ignore[arg-type]

    @property
    def codebook(self) -> torch.Tensor:
        return self._codebook.embed

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D, T]`` → codes ``[B, T]``."""
        return self._codebook.encode(self.project_in(x.transpose(1, 2)))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, T]`` → ``[B, D, T]``."""
        return self.project_out(self._codebook.decode(codes)).transpose(1, 2)
