"""MS-STFT discriminator: shapes for mono and stereo, weight norm, gradients, one discriminator per bandwidth."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.utils import parametrize

from codec.errors import UnknownBitrateError
from codec.training.discriminator import DiscriminatorBank, MultiScaleSTFTDiscriminator

LENGTH = 2560  # just over the longest window, to keep the test fast


def _expected_logit_shape(rows: int, n_fft: int, length: int) -> tuple[int, int, int, int]:
    frames = (length - n_fft) // (n_fft // 4) + 1
    bins = n_fft // 2 + 1
    for _ in range(3):  # three stride-2 convs on frequency
        bins = math.ceil(bins / 2)
    return rows, 1, frames, bins


@pytest.mark.parametrize("channels", [1, 2])
def test_output_shapes_fold_channels_into_batch(channels: int) -> None:
    torch.manual_seed(0)
    disc = MultiScaleSTFTDiscriminator(filters=8, channels=channels)
    logits, features = disc(torch.randn(3, channels, LENGTH))
    assert len(logits) == len(features) == 5
    for n_fft, scale_logits, scale_features in zip(disc.n_ffts, logits, features, strict=True):
        assert scale_logits.shape == _expected_logit_shape(3 * channels, n_fft, LENGTH)
        assert len(scale_features) == 5
        assert all(f.shape[:3] == (3 * channels, 8, scale_logits.shape[2]) for f in scale_features)


def test_stereo_channels_are_judged_separately() -> None:
    torch.manual_seed(0)
    disc = MultiScaleSTFTDiscriminator(filters=8, channels=2)
    x = torch.randn(1, 2, LENGTH)
    stereo_logits, _ = disc(x)
    swapped_logits, _ = disc(x.flip(1))
    for stereo, swapped in zip(stereo_logits, swapped_logits, strict=True):
        torch.testing.assert_close(stereo[0], swapped[1])


def test_rejects_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match=r"\[B, 1, T\]"):
        MultiScaleSTFTDiscriminator(filters=4)(torch.randn(1, 2, LENGTH))


def test_every_conv_is_weight_normalised_and_defaults_match_the_paper() -> None:
    disc = MultiScaleSTFTDiscriminator()
    assert disc.n_ffts == (2048, 1024, 512, 256, 128)
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 * 6
    assert all(parametrize.is_parametrized(conv, "weight") for conv in convs)
    first = disc.scales[0].convs[0]
    assert (first.in_channels, first.out_channels, first.kernel_size) == (2, 32, (3, 9))
    assert [c.dilation[0] for c in disc.scales[0].convs[1:4]] == [1, 2, 4]
    assert all(c.stride == (1, 2) for c in disc.scales[0].convs[1:4])


def test_gradients_reach_input_and_parameters() -> None:
    torch.manual_seed(0)
    disc = MultiScaleSTFTDiscriminator(filters=4, n_ffts=(256, 128))  # small scales: same code, faster backward
    x = torch.randn(2, 1, 512, requires_grad=True)
    logits, features = disc(x)
    (sum(scale.mean() for scale in logits) + features[0][-1].mean()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in disc.parameters())


def test_bank_has_one_discriminator_per_bandwidth() -> None:
    bank = DiscriminatorBank((1.5, 3.0, 6.0), filters=4, n_ffts=(256, 128))
    assert len(bank) == 3
    assert bank[1.5] is not bank[6.0]
    assert bank[3] is bank[3.0]
    assert bank[1.5].n_ffts == (256, 128)
    with pytest.raises(UnknownBitrateError, match="allowed"):
        bank[12.0]
    assert len(list(bank.parameters())) == 3 * len(list(bank[1.5].parameters()))
