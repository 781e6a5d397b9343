"""The inference paths against the plain (training) modules: encoder bits equal, decoder audio within 1e-5.

The plain path is ``nn.Sequential`` over the same modules, exactly as the reference computes; the comparison with
the reference itself is in ``test_reference_model.py``. Timings are not asserted anywhere.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from codec.config import SEANetConfig, encodec_24khz, encodec_48khz
from codec.model import EncodecModel, build_model, fast_encoder
from codec.model.fast_decoder import PackedDecoder
from codec.testing import random_model, synthetic_signal

DECODER_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def models() -> dict[str, EncodecModel]:
    return {preset: random_model(preset).prepare_for_inference() for preset in ("encodec_24khz", "encodec_48khz")}


def _plain_decode(model: EncodecModel, latent: torch.Tensor) -> torch.Tensor:
    model.decoder.fast_inference = False
    try:
        return model.decoder(latent)
    finally:
        model.decoder.fast_inference = True


def _plain_encode(model: EncodecModel, x: torch.Tensor) -> torch.Tensor:
    model.encoder.fast_inference = False
    try:
        return model.encoder(x)
    finally:
        model.encoder.fast_inference = True


def _small_model(**seanet: object) -> EncodecModel:
    """A narrow 24 kHz-style model with SEANet options changed (fast to run, exercises other layouts)."""
    base = encodec_24khz()
    config = dataclasses.replace(base, seanet=dataclasses.replace(SEANetConfig(n_filters=8, lstm_layers=1,
                                                                              dimension=32), **seanet),
                                 quantizer=dataclasses.replace(base.quantizer, dimension=32))
    torch.manual_seed(1)
    model = build_model(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # make biases and norms non-trivial
    return model.prepare_for_inference()


@pytest.mark.parametrize("preset", ["encodec_24khz", "encodec_48khz"])
@pytest.mark.parametrize("frames", [1, 2, 7, 150, 301])
def test_decoder_fast_path_matches_plain(models, preset: str, frames: int) -> None:
    model = models[preset]
    latent = torch.randn(2, model.config.seanet.dimension, frames)
    with torch.inference_mode():
        fast = model.decoder(latent)
        plain = _plain_decode(model, latent)
    assert fast.shape == plain.shape == (2, model.channels, frames * model.config.hop_length)
    assert (fast - plain).abs().max().item() <= DECODER_TOLERANCE


@pytest.mark.parametrize("seanet", [
    {"causal": True, "norm": "weight_norm"},
    {"causal": False, "norm": "weight_norm"},
    {"causal": False, "norm": "none", "true_skip": True},
    {"causal": False, "norm": "time_group_norm", "n_residual_layers": 2},
    {"causal": True, "norm": "weight_norm", "n_residual_layers": 2, "compress": 4},
], ids=["causal", "non-causal", "true-skip", "group-norm-dilated", "dilated-compress4"])
def test_decoder_chunks_join_seamlessly(monkeypatch: pytest.MonkeyPatch, seanet: dict) -> None:
    """Tiny chunks put many chunk borders into the signal; the margins must hide every one of them."""
    monkeypatch.setattr(PackedDecoder, "chunk_frames", 3)
    model = _small_model(**seanet)
    latent = torch.randn(1, 32, 40)
    with torch.inference_mode():
        fast = model.decoder(latent)
        plain = _plain_decode(model, latent)
    assert model.decoder._packed is not None  # the fast path really ran
    assert (fast - plain).abs().max().item() <= DECODER_TOLERANCE


@pytest.mark.parametrize("seanet", [{"causal": True, "norm": "weight_norm"},
                                    {"causal": False, "norm": "weight_norm"},
                                    {"causal": False, "norm": "none", "n_residual_layers": 2},
                                    {"causal": False, "norm": "time_group_norm"}],
                         ids=["causal", "non-causal", "dilated", "group-norm"])
@pytest.mark.parametrize("chunk_frames", [2, 70, 101])
def test_encoder_fast_path_is_bit_identical(monkeypatch: pytest.MonkeyPatch, seanet: dict,
                                            chunk_frames: int) -> None:
    """Chunked or not, the inference encoder must give the plain encoder's latents bit for bit."""
    chunked = []
    original = fast_encoder._chunked

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        chunked.append(result is not None)
        return result

    monkeypatch.setattr(fast_encoder, "_chunked", spy)
    model = _small_model(**seanet)
    model.encoder.chunk_frames = chunk_frames
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # chunking only happens with one thread
    try:
        for length in (1, 7, 320, 4001, 96_000, 100_003, 160_017):
            x = synthetic_signal(1, length, 24_000, seed=length)
            if length == 100_003:
                x = torch.cat([x, x.flip(-1)])  # a batch of two
            with torch.inference_mode():
                assert torch.equal(model.encoder(x), _plain_encode(model, x)), length
    finally:
        torch.set_num_threads(previous)
    # Tiny chunks are refused (they would take other conv kernels); large ones chunk unless group norm forbids.
    assert any(chunked) == (chunk_frames > 2 and seanet["norm"] != "time_group_norm")


@pytest.mark.parametrize("preset", ["encodec_24khz", "encodec_48khz"])
@pytest.mark.parametrize("threads", [1, 2])
def test_full_size_encoder_bit_identical_on_long_input(models, preset: str, threads: int) -> None:
    """The official architectures on a long input (chunked at 24 kHz), with the thread counts we benchmark."""
    model = models[preset]
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        x = synthetic_signal(model.channels, 5 * model.sample_rate + 123, model.sample_rate, seed=threads)
        if model.config.segment_length:
            x = x[..., : model.config.segment_length]
        with torch.inference_mode():
            assert torch.equal(model.encoder(x), _plain_encode(model, x))
    finally:
        torch.set_num_threads(previous)


def test_batched_segment_decode_matches_one_by_one(models) -> None:
    model = models["encodec_48khz"]
    x = synthetic_signal(2, 3 * 48_000 + 5_000, 48_000, seed=3)
    with torch.inference_mode():
        segments = model.encode(x, 6.0)
        batched = model.decode_segments(segments)
        single = [model.decode_segment(s) for s in segments]
    assert len(batched) == len(single) == 4
    for a, b in zip(batched, single, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= DECODER_TOLERANCE


def test_packed_weights_follow_weight_changes() -> None:
    """Loading weights, editing them in place or training must never leave a stale inference copy in use."""
    model = _small_model()
    other = _small_model(causal=True)
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(1.5)
    latent = torch.randn(1, 32, 9)
    with torch.inference_mode():
        model.decoder(latent)  # builds the packed copy
    model.load_state_dict(other.state_dict())
    with torch.inference_mode():
        assert (model.decoder(latent) - _plain_decode(model, latent)).abs().max().item() <= DECODER_TOLERANCE
    with torch.no_grad():
        next(model.decoder.parameters()).mul_(-1.0)  # in place, no reload
    with torch.inference_mode():
        assert (model.decoder(latent) - _plain_decode(model, latent)).abs().max().item() <= DECODER_TOLERANCE
    model.train()
    assert model.decoder._packed is None
    conv = model.decoder.model[0].conv.conv
    assert conv.folded_weight is None or conv.current_weight() is not conv.folded_weight


def test_folded_weights_are_undone_by_loading() -> None:
    model = _small_model()
    conv = model.encoder.model[0].conv.conv
    assert conv.folded_weight is not None
    state = {k: v * 2 if k.endswith("weight_g") else v for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert conv.folded_weight is None
    expected = torch._weight_norm(conv.weight_v, conv.weight_g, 0)
    assert torch.equal(conv.current_weight(), expected)
    model.prepare_for_inference()
    with torch.no_grad():
        conv.weight_g.mul_(0.5)  # edited in place after folding: the fold is stale and must not be used
    assert torch.equal(conv.current_weight(), torch._weight_norm(conv.weight_v, conv.weight_g, 0))


def test_training_uses_the_differentiable_path() -> None:
    model = _small_model().train()
    x = synthetic_signal(1, 3_200, 24_000)
    audio, result = model(x, 6.0)
    (audio.pow(2).mean() + result.penalty).backward()
    grads = [p.grad for name, p in model.named_parameters() if name.startswith(("encoder.", "decoder."))]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_eval_with_grad_enabled_stays_differentiable() -> None:
    """Eval mode alone (e.g. a frozen codec inside a loss) must still give gradients to the input."""
    model = _small_model().eval()
    x = synthetic_signal(1, 3_200, 24_000).requires_grad_(True)
    latent = model.encoder(x)
    model.decoder(latent).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("factory", [encodec_24khz, encodec_48khz])
def test_state_dict_keys_unchanged_by_inference_preparation(factory) -> None:  # type: ignore[no-untyped-def]
    model = build_model(factory())
    keys = list(model.state_dict())
    model.prepare_for_inference()
    with torch.inference_mode():
        model.decoder(torch.randn(1, 128, 2))
    assert list(model.state_dict()) == keys


def test_inference_mode_then_no_grad_and_back() -> None:
    """Scratch buffers made under inference_mode must still be writable under no_grad, and vice versa."""
    model = _small_model()
    latent = torch.randn(1, 32, 12)
    x = synthetic_signal(1, 4_000, 24_000)
    with torch.inference_mode():
        first, codes = model.decoder(latent), model.encoder(x)
    with torch.no_grad():
        assert torch.equal(model.decoder(latent), first)
        assert torch.equal(model.encoder(x), codes)
    with torch.inference_mode():
        assert torch.equal(model.decoder(latent), first)


@pytest.mark.oracle
@pytest.mark.parametrize("preset", ["encodec_24khz", "encodec_48khz"])
def test_one_thread_codes_match_reference(model_pair, preset: str) -> None:
    """With one thread the 24 kHz encoder runs in chunks: its codes must still be the reference's."""
    ref, ours = model_pair(preset)
    sample_rate, channels = ours.sample_rate, ours.channels
    x = synthetic_signal(channels, int(3.3 * sample_rate), sample_rate, seed=11)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ref.set_target_bandwidth(24.0)
        with torch.inference_mode():
            ref_frames = ref.encode(x)
            ours_segments = ours.encode(x, 24.0)
    finally:
        torch.set_num_threads(previous)
    assert len(ref_frames) == len(ours_segments)
    for (codes, _), segment in zip(ref_frames, ours_segments, strict=True):
        assert torch.equal(codes, segment.codes)
