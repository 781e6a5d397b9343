"""Residual vector quantizer and the one place where a bitrate becomes a number of codebooks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from codec.config import QuantizerConfig
from codec.errors import UnknownBitrateError
from codec.quantization.core_vq import VectorQuantization


def bitrate_per_codebook_kbps(frame_rate: int, bins: int) -> float:
    """kbps that one codebook costs: ``log2(bins)`` bits per frame."""
    return math.log2(bins) * frame_rate / 1000


def codebooks_for_bitrate(bitrate_kbps: float, frame_rate: int, bins: int, n_q: int) -> int:
    """Codebooks used at ``bitrate_kbps``: ``max(1, floor(bitrate / per_codebook))``, at most ``n_q``.

    Examples: 24 kHz (75 Hz, 1024 bins): 1.5 → 2, 6 → 8, 24 → 32; 48 kHz (150 Hz): 3 → 2, 24 → 16.
    """
    per_codebook = bitrate_per_codebook_kbps(frame_rate, bins)
    return min(n_q, max(1, math.floor(bitrate_kbps / per_codebook)))


def check_bitrate(bitrate_kbps: float, allowed_kbps: tuple[float, ...]) -> float:
    """Return ``bitrate_kbps`` if the model offers it, else raise naming the allowed values."""
    for allowed in allowed_kbps:
        if math.isclose(float(bitrate_kbps), allowed, rel_tol=0, abs_tol=1e-9):
            return allowed
    listed = ", ".join(f"{b:g}" for b in allowed_kbps)
    raise UnknownBitrateError(f"bitrate {bitrate_kbps!r} kbps is not offered by this model; allowed: {listed} kbps")


@dataclass
class QuantizedResult:
    """Output of a training/analysis pass: quantized latents ``[B, D, T]``, codes ``[B, K, T]``, penalty."""

    quantized: torch.Tensor
    codes: torch.Tensor
    bitrate_kbps: float
    penalty: torch.Tensor


class ResidualVectorQuantization(nn.Module):
    """The stack of VQ layers (``.layers``), each quantizing what the previous ones left."""

    def __init__(self, config: QuantizerConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            VectorQuantization(
                config.dimension, config.bins, kmeans_init=config.kmeans_init, kmeans_iters=config.kmeans_iters,
                decay=config.decay, threshold_ema_dead_code=config.threshold_ema_dead_code,
            )
            for _ in range(config.n_q)
        )

    def encode(self, x: torch.Tensor, n_q: int) -> torch.Tensor:
        """Latents ``[B, D, T]`` → codes ``[B, n_q, T]``."""
        residual = x
        codes = []
        for layer in self.layers[:n_q]:
            layer_codes = layer.encode(residual)
            residual = residual - layer.decode(layer_codes)
            codes.append(layer_codes)
        return torch.stack(codes, dim=1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, K, T]`` (K ≤ n_q) → latents ``[B, D, T]``: the sum of the K codebooks' vectors."""
        out = self.layers[0].decode(codes[:, 0])
        for k in range(1, codes.shape[1]):
            out = out + self.layers[k].decode(codes[:, k])
        return out

    def forward(self, x: torch.Tensor, n_q: int, fix_commitment_gradient: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training pass → (quantized with straight-through gradient, codes ``[B, n_q, T]``, commitment loss).

        With ``fix_commitment_gradient`` the residual chain uses detached quantized vectors so each layer's
        commitment loss reaches the encoder (upstream bug #25); off, gradients match the reference.
        """
        residual = x
        quantized_sum = torch.zeros_like(x)
        codes, losses = [], []
        for layer in self.layers[:n_q]:
            vectors, layer_codes = layer._codebook(residual.transpose(1, 2))
            vectors = vectors.transpose(1, 2)
            losses.append(F.mse_loss(vectors.detach(), residual))
            if fix_commitment_gradient:
                step = vectors.detach()
            else:
                step = residual + (vectors - residual).detach()
            residual = residual - step
            quantized_sum = quantized_sum + step
            codes.append(layer_codes)
        if fix_commitment_gradient:
            quantized_sum = x + (quantized_sum - x).detach()
        penalty = torch.stack(losses).mean()
        return quantized_sum, torch.stack(codes, dim=1), penalty


class ResidualVectorQuantizer(nn.Module):
    """RVQ facade: bitrate ↔ codebooks, encode, decode, and a training forward."""

    def __init__(self, config: QuantizerConfig, frame_rate: int) -> None:
        super().__init__()
        self.config = config
        self.frame_rate = frame_rate
        self.vq = ResidualVectorQuantization(config)

    @property
    def n_q(self) -> int:
        return self.config.n_q

    def codebooks_for(self, bitrate_kbps: float | None) -> int:
        """Codebooks at ``bitrate_kbps`` (all of them for None)."""
        if bitrate_kbps is None:
            return self.n_q
        return codebooks_for_bitrate(bitrate_kbps, self.frame_rate, self.config.bins, self.n_q)

    def encode(self, x: torch.Tensor, bitrate_kbps: float | None = None) -> torch.Tensor:
        """Latents ``[B, D, T]`` → codes ``[B, K, T]``."""
        return self.vq.encode(x, self.codebooks_for(bitrate_kbps))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, K, T]`` → latents ``[B, D, T]``."""
        return self.vq.decode(codes)

    def forward(self, x: torch.Tensor, bitrate_kbps: float | None = None,
                fix_commitment_gradient: bool = False) -> QuantizedResult:
        n_q = self.codebooks_for(bitrate_kbps)
        quantized, codes, penalty = self.vq(x, n_q, fix_commitment_gradient)
        bitrate = n_q * bitrate_per_codebook_kbps(self.frame_rate, self.config.bins)
        return QuantizedResult(quantized, codes, bitrate, penalty)
