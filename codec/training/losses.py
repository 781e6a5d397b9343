"""Generator and discriminator losses of EnCodec (Défossez et al. 2022, §3.4), written from the paper.

* :func:`time_l1_loss`: ``ℓt``, the L1 distance between waveforms;
* :class:`MultiScaleMelLoss`: ``ℓf`` (Eq. 1), L1 + α·L2 between 64-band mel spectrograms at seven scales;
* :func:`hinge_discriminator_loss` and :func:`hinge_generator_loss`: the hinge GAN losses over the K scales of the
  MS-STFT discriminator (Eq. 2 and ``L_d``);
* :func:`relative_feature_matching_loss`: ``ℓfeat`` (Eq. 3), L1 between discriminator feature maps, each divided by
  the mean magnitude of the real one.

Every function takes tensors and returns a differentiable scalar. The generator losses are meant to go through
:class:`codec.training.balancer.Balancer`; the RVQ commitment ``penalty`` is not one of them.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    "MultiScaleMelLoss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "htk_mel_filterbank",
    "normalized_stft",
    "relative_feature_matching_loss",
    "time_l1_loss",
]


def _check_same_shape(x_hat: Tensor, x: Tensor) -> None:
    # Broadcasting a [B, 1, T] against a [B, 2, T] would silently give a wrong loss.
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat and x must have the same shape, got {list(x_hat.shape)} and {list(x.shape)}")


def time_l1_loss(x_hat: Tensor, x: Tensor) -> Tensor:
    """``ℓt``: mean absolute difference of two waveforms ``[B, C, T]`` (scalar, in sample units)."""
    _check_same_shape(x_hat, x)
    return F.l1_loss(x_hat, x)


def normalized_stft(x: Tensor, n_fft: int, hop_length: int) -> Tensor:
    """Complex STFT of ``[N, T]`` signals → ``[N, n_fft // 2 + 1, frames]``, ``frames = (T - n_fft) // hop + 1``.

    Periodic Hann window of ``n_fft`` samples, no centring or padding (callers pad as they need), divided by
    ``sqrt(Σ window²)`` so that magnitudes do not grow with the window length (``normalized=True`` in the reference's
    spectrogram transforms).
    """
    if x.shape[-1] < n_fft:
        raise ValueError(f"signal of {x.shape[-1]} samples is shorter than the {n_fft}-sample STFT window")
    window = torch.hann_window(n_fft, dtype=x.dtype, device=x.device)
    spec = torch.stft(x, n_fft, hop_length=hop_length, window=window, center=False, return_complex=True)
    return spec / window.square().sum().sqrt()


def _hz_to_mel_htk(hz: float) -> float:
    return 2595.0 * math.log10(1.0 + hz / 700.0)


def htk_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> Tensor:
    """Triangular mel filters on the HTK scale from 0 Hz to Nyquist, float64 ``[n_mels, n_fft // 2 + 1]``.

    Peak-1 triangles without area normalisation (the default of the spectrogram transforms the reference was trained
    with; :func:`codec.evaluation.spectral.mel_filterbank` is the Slaney, area-normalised variant used by DAC's
    evaluation distance, which would down-weight the wide high bands). Bands narrower than the FFT bin spacing
    can fall between bins and come out all zero.
    """
    bin_hz = torch.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1, dtype=torch.float64)
    edges_mel = torch.linspace(0.0, _hz_to_mel_htk(sample_rate / 2.0), n_mels + 2, dtype=torch.float64)
    edges_hz = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    widths_hz = edges_hz.diff()
    offsets = edges_hz[:, None] - bin_hz[None, :]  # [n_mels + 2, bins]
    rising = -offsets[:-2] / widths_hz[:-1, None]
    falling = offsets[2:] / widths_hz[1:, None]
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


class MultiScaleMelLoss(nn.Module):
    """``ℓf`` of the paper (Eq. 1): L1 plus α·L2 between mel spectrograms at window lengths ``2**i``.

    For each ``i`` in ``min_exponent … max_exponent`` (default 5 … 11, i.e. 32 … 2048 samples): the magnitude of a
    :func:`normalized_stft` with window ``2**i`` and hop ``2**i / 4`` (the signal reflect-padded by
    ``(window - hop) / 2`` at each end, so frames cover the edges), projected on ``n_mels`` HTK mel bands
    (:func:`htk_mel_filterbank`, 0 Hz to Nyquist). The scale contributes ``mean|S(x) - S(x̂)| + α·mean(S(x) - S(x̂))²``
    (means over batch, channel, band and frame; the L2 term is a mean square as in the authors' later audiocraft
    code), and the loss is the mean over scales, the ``1 / (|α|·|s|)`` of Eq. 1 with ``α_i = α``.

    **Empty mel bands.** At short windows the 64 bands are narrower than the FFT bins (a 32-sample window at 24 kHz
    has 17 bins spaced 750 Hz), so many triangles contain no bin and are all zero. They add exactly zero to every
    difference, so we drop them at construction: each scale's mean runs over its non-empty bands only. Keeping them
    (as a transform with a fixed 64 bands does) would only divide that scale's term by ``64 / non_empty``, i.e. quietly
    down-weight the short windows; ``non_empty_bands`` lists how many each scale keeps.

    Input: ``x_hat, x`` ``[B, C, T]`` with ``T > (2**max_exponent - 2**max_exponent / 4) / 2`` (reflect padding);
    output: a scalar in normalised-magnitude units.
    """

    def __init__(
        self, sample_rate: int, min_exponent: int = 5, max_exponent: int = 11, n_mels: int = 64, alpha: float = 1.0
    ) -> None:
        super().__init__()
        if not 2 <= min_exponent <= max_exponent:
            raise ValueError(f"need 2 <= min_exponent <= max_exponent, got {min_exponent} and {max_exponent}")
        if sample_rate <= 0 or n_mels <= 0 or alpha < 0:
            raise ValueError(f"bad sample_rate={sample_rate}, n_mels={n_mels} or alpha={alpha}")
        self.sample_rate = sample_rate
        self.alpha = alpha
        self.window_lengths = tuple(2**i for i in range(min_exponent, max_exponent + 1))
        counts = []
        for window in self.window_lengths:
            bank = htk_mel_filterbank(sample_rate, window, n_mels)
            bank = bank[bank.sum(dim=1) > 0]
            counts.append(bank.shape[0])
            # Not persistent: rebuilt from the arguments, so checkpoints do not carry (or depend on) the filters.
            self.register_buffer(f"filterbank_{window}", bank.float(), persistent=False)
        self.non_empty_bands = tuple(counts)

    def _mel(self, x: Tensor, window: int) -> Tensor:
        """``[N, T]`` → mel magnitude ``[N, bands, frames]``."""
        hop = window // 4
        pad = (window - hop) // 2
        padded = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        magnitude = normalized_stft(padded, window, hop).abs()
        bank: Tensor = getattr(self, f"filterbank_{window}")
        return torch.matmul(bank.to(magnitude.dtype), magnitude)

    def forward(self, x_hat: Tensor, x: Tensor) -> Tensor:
        """Scalar loss between the decoded ``x_hat`` and the target ``x``, both ``[B, C, T]``."""
        _check_same_shape(x_hat, x)
        flat_hat = x_hat.reshape(-1, x_hat.shape[-1])
        flat = x.reshape(-1, x.shape[-1])
        terms = []
        for window in self.window_lengths:
            diff = self._mel(flat, window) - self._mel(flat_hat, window)
            terms.append(diff.abs().mean() + self.alpha * diff.square().mean())
        return torch.stack(terms).mean()


def _check_scales(real: list, fake: list) -> None:
    if len(real) != len(fake) or not real:
        raise ValueError(f"need the same non-zero number of discriminator scales, got {len(real)} and {len(fake)}")


def hinge_discriminator_loss(real_logits: list[Tensor], fake_logits: list[Tensor]) -> Tensor:
    """``L_d = 1/K Σ_k mean(relu(1 - D_k(x))) + mean(relu(1 + D_k(x̂)))`` over the K discriminator scales.

    ``fake_logits`` must come from a detached ``x̂`` so that this loss trains the discriminator only.
    """
    _check_scales(real_logits, fake_logits)
    terms = [
        F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
        for real, fake in zip(real_logits, fake_logits, strict=True)
    ]
    return torch.stack(terms).mean()


def hinge_generator_loss(fake_logits: list[Tensor]) -> Tensor:
    """``ℓg = 1/K Σ_k mean(relu(1 - D_k(x̂)))`` (the paper's hinge; audiocraft's ``-mean(D)`` is a different loss)."""
    if not fake_logits:
        raise ValueError("need at least one discriminator scale")
    return torch.stack([F.relu(1.0 - fake).mean() for fake in fake_logits]).mean()


def relative_feature_matching_loss(
    real_features: list[list[Tensor]], fake_features: list[list[Tensor]], eps: float = 1e-8
) -> Tensor:
    """``ℓfeat = 1/(K L) Σ_k Σ_l mean|D_k^l(x) - D_k^l(x̂)| / mean|D_k^l(x)|`` (relative feature matching).

    ``real_features[k][l]`` is feature map ``l`` of scale ``k`` for the real audio; it is detached, so this loss
    trains the generator only. The mean runs over all ``(k, l)`` pairs (``1/(K L)`` when every scale has L maps).
    ``eps`` (default 1e-8) floors the denominator so that an all-zero real map cannot divide by zero.
    """
    _check_scales(real_features, fake_features)
    terms = []
    for real_maps, fake_maps in zip(real_features, fake_features, strict=True):
        if len(real_maps) != len(fake_maps):
            raise ValueError(f"scale has {len(real_maps)} real and {len(fake_maps)} fake feature maps")
        for real, fake in zip(real_maps, fake_maps, strict=True):
            real = real.detach()
            terms.append((real - fake).abs().mean() / real.abs().mean().clamp_min(eps))
    return torch.stack(terms).mean()
