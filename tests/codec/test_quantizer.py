"""Residual vector quantization: bitrate ↔ codebooks, k-means init, EMA, dead codes, and the #25 gradient fix."""

from __future__ import annotations

import pytest
import torch

from codec.config import QuantizerConfig
from codec.errors import UnknownBitrateError
from codec.quantization import ResidualVectorQuantizer, check_bitrate, codebooks_for_bitrate
from codec.quantization.core_vq import EuclideanCodebook, kmeans


@pytest.mark.parametrize(("frame_rate", "expected"), [
    (75, {1.5: 2, 3.0: 4, 6.0: 8, 12.0: 16, 24.0: 32}),
    (150, {3.0: 2, 6.0: 4, 12.0: 8, 24.0: 16}),
])
def test_bitrate_to_codebooks(frame_rate: int, expected: dict[float, int]) -> None:
    n_q = max(expected.values())
    for bitrate, codebooks in expected.items():
        assert codebooks_for_bitrate(bitrate, frame_rate, 1024, n_q) == codebooks


def test_check_bitrate_accepts_listed_values_only() -> None:
    assert check_bitrate(6, (1.5, 6.0)) == 6.0
    with pytest.raises(UnknownBitrateError, match=r"allowed: 1\.5, 6 kbps"):
        check_bitrate(7.0, (1.5, 6.0))


def clustered(n: int, centres: torch.Tensor, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, centres.shape[0], (n,), generator=gen)
    return centres[picks] + 0.01 * torch.randn(n, centres.shape[1], generator=gen)


def test_kmeans_finds_separated_clusters() -> None:
    torch.manual_seed(0)
    centres = 10 * torch.randn(4, 8)
    data = clustered(400, centres)
    means, counts = kmeans(data, 16, 20)
    assert int(counts.sum()) == 400
    assert torch.cdist(centres, means).min(dim=1).values.max() < 0.1
    assert torch.cdist(data, means).min(dim=1).values.mean() < 0.05


def test_first_forward_initialises_by_kmeans() -> None:
    torch.manual_seed(0)
    book = EuclideanCodebook(dim=8, codebook_size=16, kmeans_iters=10)
    assert book.inited.item() == 0 and book.embed.abs().sum() == 0
    data = clustered(512, 5 * torch.randn(4, 8))
    book.eval()  # initialisation happens on first use in any mode, as in the reference
    book(data)
    assert book.inited.item() == 1
    assert int(book.cluster_size.sum()) == 512
    assert torch.cdist(data, book.embed).min(dim=1).values.max() < 0.1


def test_ema_moves_codes_to_their_data() -> None:
    torch.manual_seed(0)
    centres = 5 * torch.randn(16, 8)
    book = EuclideanCodebook(dim=8, codebook_size=16, kmeans_init=False, decay=0.5)
    book.embed.copy_(centres)
    book.embed_avg.copy_(centres * 32)
    book.cluster_size.fill_(32)
    book.train()
    data = clustered(512, centres)
    for _ in range(30):
        book(data + 1.0)
    torch.testing.assert_close(book.embed, centres + 1.0, atol=0.05, rtol=0)


def test_dead_codes_are_replaced_by_batch_vectors() -> None:
    torch.manual_seed(0)
    book = EuclideanCodebook(dim=4, codebook_size=8, kmeans_init=False, threshold_ema_dead_code=2)
    far_away = 1000 + torch.randn(64, 4)
    book.cluster_size.zero_()
    book.replace_dead_codes(far_away)
    assert (book.embed > 900).all()


def test_eval_mode_does_not_update_codebooks() -> None:
    book = EuclideanCodebook(dim=4, codebook_size=8)
    book.eval()
    data = torch.randn(32, 4)
    book(data)
    embed = book.embed.clone()
    book(data + 5)
    assert torch.equal(book.embed, embed)


@pytest.mark.parametrize("fix", [False, True])
def test_commitment_gradient_reaches_encoder_only_with_fix(fix: bool) -> None:
    """Upstream #25: later layers' commitment losses send no gradient to the input unless fixed."""
    torch.manual_seed(0)
    quantizer = ResidualVectorQuantizer(QuantizerConfig(dimension=8, n_q=4, bins=16, kmeans_iters=5), frame_rate=75)
    quantizer.eval()  # k-means still runs on first use; no EMA step moves codebooks under the check
    x = torch.randn(2, 8, 50, requires_grad=True)
    result = quantizer(x, bitrate_kbps=None, fix_commitment_gradient=fix)
    assert result.codes.shape == (2, 4, 50)
    # Straight-through: the quantized output's gradient passes to x unchanged either way.
    (grad_st,) = torch.autograd.grad(result.quantized.sum(), x, retain_graph=True)
    assert torch.allclose(grad_st, torch.ones_like(x))
    (grad_commit,) = torch.autograd.grad(result.penalty, x)
    first_vectors = quantizer.vq.layers[0].decode(result.codes[:, 0])
    first_layer_only = 2 * (x - first_vectors) / x.numel() / 4
    if fix:
        assert not torch.allclose(grad_commit, first_layer_only.detach(), atol=1e-7)
    else:
        assert torch.allclose(grad_commit, first_layer_only.detach(), atol=1e-7)
