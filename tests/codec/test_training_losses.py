"""Training losses: hand-computed values, invariants of the mel loss, and where gradients flow."""

from __future__ import annotations

import math

import pytest
import torch

from codec.training.losses import (
    MultiScaleMelLoss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    htk_mel_filterbank,
    relative_feature_matching_loss,
    time_l1_loss,
)

SAMPLE_RATE = 24_000


def _test_signal(length: int = 4096, seed: int = 0) -> torch.Tensor:
    """[2, 1, T]: a 440 Hz + 5 kHz tone pair plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / SAMPLE_RATE
    tones = 0.4 * torch.sin(2 * math.pi * 440 * t) + 0.3 * torch.sin(2 * math.pi * 5000 * t)
    return tones + 0.05 * torch.randn(2, 1, length, generator=generator)


def _low_pass(x: torch.Tensor, cutoff_hz: float) -> torch.Tensor:
    spectrum = torch.fft.rfft(x)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / SAMPLE_RATE)
    return torch.fft.irfft(spectrum * (freqs <= cutoff_hz), n=x.shape[-1])


@pytest.fixture(scope="module")
def mel_loss() -> MultiScaleMelLoss:
    return MultiScaleMelLoss(SAMPLE_RATE)


def test_time_l1_of_known_tensors() -> None:
    x = torch.tensor([[[0.0, 1.0, -1.0, 0.5]]])
    x_hat = torch.tensor([[[0.5, 1.0, 1.0, 0.0]]])
    assert time_l1_loss(x_hat, x).item() == pytest.approx((0.5 + 0 + 2 + 0.5) / 4)
    with pytest.raises(ValueError, match="same shape"):
        time_l1_loss(x_hat, x.expand(1, 2, 4))


def test_mel_filterbank_peaks_at_one_and_some_bands_empty_at_short_windows() -> None:
    wide = htk_mel_filterbank(SAMPLE_RATE, 2048, 64)
    assert wide.shape == (64, 1025)
    assert bool((wide.sum(dim=1) > 0).all())
    assert wide.max().item() == pytest.approx(1.0, abs=0.05)
    narrow = htk_mel_filterbank(SAMPLE_RATE, 32, 64)
    assert 0 < int((narrow.sum(dim=1) > 0).sum()) < 64


def test_mel_loss_drops_empty_bands(mel_loss: MultiScaleMelLoss) -> None:
    assert mel_loss.window_lengths == (32, 64, 128, 256, 512, 1024, 2048)
    assert mel_loss.non_empty_bands[0] < 64
    assert mel_loss.non_empty_bands[-1] == 64
    assert mel_loss.filterbank_32.shape[0] == mel_loss.non_empty_bands[0]
    assert not any("filterbank" in key for key in mel_loss.state_dict())


def test_mel_loss_zero_for_identical_and_symmetric(mel_loss: MultiScaleMelLoss) -> None:
    x = _test_signal()
    y = _test_signal(seed=1)
    assert mel_loss(x, x.clone()).item() == pytest.approx(0.0, abs=1e-7)
    forward, backward = mel_loss(y, x).item(), mel_loss(x, y).item()
    assert forward > 0
    assert forward == pytest.approx(backward, rel=1e-5)


def test_mel_loss_penalises_low_pass_more_than_slight_gain(mel_loss: MultiScaleMelLoss) -> None:
    x = _test_signal()
    assert mel_loss(_low_pass(x, 2000.0), x) > 2 * mel_loss(0.95 * x, x)


def test_mel_loss_gradient_reaches_x_hat(mel_loss: MultiScaleMelLoss) -> None:
    x = _test_signal()
    x_hat = (0.8 * x).requires_grad_()
    mel_loss(x_hat, x).backward()
    assert x_hat.grad is not None
    assert torch.isfinite(x_hat.grad).all() and x_hat.grad.abs().sum() > 0


def test_mel_loss_alpha_weights_the_l2_term() -> None:
    x, y = _test_signal(), _test_signal(seed=1)
    l1_only = MultiScaleMelLoss(SAMPLE_RATE, alpha=0.0)(y, x)
    both = MultiScaleMelLoss(SAMPLE_RATE, alpha=1.0)(y, x)
    double = MultiScaleMelLoss(SAMPLE_RATE, alpha=2.0)(y, x)
    assert both > l1_only
    assert (double - l1_only).item() == pytest.approx(2 * (both - l1_only).item(), rel=1e-4)


def test_hinge_losses_on_hand_made_logits() -> None:
    real = [torch.tensor([2.0, 0.5]), torch.tensor([[-1.0]])]
    fake = [torch.tensor([-2.0, 0.0]), torch.tensor([[0.5]])]
    # Scale 1: real relu(1-D) = [0, 0.5] -> 0.25, fake relu(1+D) = [0, 1] -> 0.5; scale 2: real 2, fake 1.5.
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(((0.25 + 0.5) + (2.0 + 1.5)) / 2)
    # Generator: relu(1-D(x_hat)): scale 1 [3, 1] -> 2, scale 2 0.5.
    assert hinge_generator_loss(fake).item() == pytest.approx((2.0 + 0.5) / 2)
    with pytest.raises(ValueError):
        hinge_discriminator_loss(real, fake[:1])


def test_relative_feature_matching_on_hand_made_features() -> None:
    real = [
        [torch.tensor([1.0, -3.0]), torch.tensor([2.0])],
        [torch.tensor([[0.5, 0.5]]), torch.tensor([-4.0, 0.0])],
    ]
    fake = [
        [torch.tensor([2.0, -1.0]), torch.tensor([2.0])],
        [torch.tensor([[1.0, 0.0]]), torch.tensor([0.0, 0.0])],
    ]
    # |diff| mean / |real| mean per map: (1.5 / 2), 0, (0.5 / 0.5), (2 / 2).
    expected = (0.75 + 0.0 + 1.0 + 1.0) / 4
    assert relative_feature_matching_loss(real, fake).item() == pytest.approx(expected)


def test_relative_feature_matching_is_scale_free_and_trains_only_the_fake_side() -> None:
    real_map = torch.tensor([1.0, -3.0], requires_grad=True)
    fake_map = torch.tensor([2.0, -1.0], requires_grad=True)
    loss = relative_feature_matching_loss([[real_map]], [[fake_map]])
    loss.backward()
    assert real_map.grad is None
    assert fake_map.grad is not None and fake_map.grad.abs().sum() > 0
    scaled = relative_feature_matching_loss([[10 * real_map.detach()]], [[10 * fake_map.detach()]])
    assert scaled.item() == pytest.approx(loss.item())
