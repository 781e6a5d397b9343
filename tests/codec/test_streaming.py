"""Streaming encode/decode: chunking never changes a bit, and results equal the offline codec."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from codec.api import Codec
from codec.config import encodec_24khz, encodec_48khz
from codec.model import EncodecModel, build_model
from codec.streaming import (
    SegmentDecoder,
    SegmentEncoder,
    StreamingDecoder,
    StreamingEncoder,
    UnsupportedStreamingError,
    latency,
)
from codec.testing import fill_codebooks_from_latents, synthetic_signal


def tiny_model(preset: str = "encodec_24khz", seed: int = 0) -> EncodecModel:
    """A narrow model of a preset's layout (4 filters, 1 LSTM layer, 32-dim latents), latent-drawn codebooks."""
    base = encodec_24khz() if preset == "encodec_24khz" else encodec_48khz()
    config = dataclasses.replace(
        base, name=f"tiny_{preset}",
        seanet=dataclasses.replace(base.seanet, n_filters=4, lstm_layers=1, dimension=32),
        quantizer=dataclasses.replace(base.quantizer, dimension=32),
    )
    torch.manual_seed(seed)
    model = build_model(config).eval()
    with torch.no_grad():
        fill_codebooks_from_latents(model, config.sample_rate, config.channels, config.normalize, seed)
    return model.prepare_for_inference()


@pytest.fixture(scope="module")
def model() -> EncodecModel:
    return tiny_model()


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Offline equality needs one thread (with more, torch splits ELU loops at length-dependent places); it is
    also faster for these small tensors on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def signal(seconds: float, seed: int = 1, channels: int = 1, rate: int = 24_000) -> np.ndarray:
    return synthetic_signal(channels, int(seconds * rate), rate, seed)[0].numpy()


def random_chunks(length: int, seed: int, hop: int = 320) -> list[int]:
    """Chunk sizes: single samples, whole frames, then random sizes up to a few frames."""
    rng = np.random.default_rng(seed)
    sizes = [1] * 700 + [hop] * 3
    while sum(sizes) < length:
        sizes.append(int(rng.integers(1, 4 * hop)))
    return sizes


def stream_encode(model: EncodecModel, audio: np.ndarray, sizes: list[int] | None, block_frames: int = 1) -> np.ndarray:
    encoder = StreamingEncoder(model, 6.0, block_frames=block_frames)
    parts, start = [], 0
    for size in sizes or [audio.shape[-1]]:
        parts.append(encoder.push(audio[:, start : start + size]))
        start += size
    parts.append(encoder.flush())
    return np.concatenate(parts, axis=-1)


def stream_decode(model: EncodecModel, codes: np.ndarray, sizes: list[int] | None) -> np.ndarray:
    decoder = StreamingDecoder(model)
    parts, start = [], 0
    for size in sizes or [codes.shape[-1]]:
        parts.append(decoder.push(codes[:, start : start + size]))
        start += size
    parts.append(decoder.flush())
    return np.concatenate(parts, axis=-1)


@pytest.mark.parametrize("block_frames", [1, 3])
def test_any_chunking_gives_the_bits_of_the_whole_input(model: EncodecModel, block_frames: int) -> None:
    audio = signal(1.0)
    whole = stream_encode(model, audio, None, block_frames)
    chunked = stream_encode(model, audio, random_chunks(audio.shape[-1], seed=block_frames), block_frames)
    assert whole.shape == (8, 75)
    np.testing.assert_array_equal(chunked, whole)

    decoded = stream_decode(model, whole, None)
    rng = np.random.default_rng(block_frames)
    sizes = [1, 1, 1, *rng.integers(1, 7, size=40).tolist()]
    np.testing.assert_array_equal(stream_decode(model, whole, sizes), decoded)
    assert decoded.shape == (1, 75 * 320)


def test_streaming_matches_the_offline_codec(model: EncodecModel, one_thread: None) -> None:
    # 6 s: long enough that offline convolutions all take the oneDNN kernels the streaming engine also uses.
    audio = signal(6.0, seed=2)
    codec = Codec(model)
    encoded = codec.encode(audio, 24_000, 6.0)
    offline_codes = encoded.segments[0].codes[0]
    codes = stream_encode(model, audio, random_chunks(audio.shape[-1], seed=5))
    assert codes.shape == offline_codes.shape
    # Documented tolerance: at least 99 % of frames identical (measured here: all of them).
    assert (codes == offline_codes).all(axis=0).mean() >= 0.99
    offline_audio = codec.decode(encoded)
    audio_out = stream_decode(model, offline_codes, [5] * 200)[:, : audio.shape[-1]]
    assert np.abs(audio_out - offline_audio).max() <= 1e-5


@pytest.mark.parametrize("length", [1, 5, 321, 2500])
def test_short_inputs_give_the_offline_frame_count_and_codes(model: EncodecModel, length: int) -> None:
    audio = signal(1.0, seed=3)[:, :length]
    codes = stream_encode(model, audio, [7] * (length // 7 + 1))
    with torch.inference_mode():
        model.encoder.fast_inference = False
        try:
            offline = model.quantizer.encode(model.encoder(torch.from_numpy(audio)[None]), 6.0)[0].numpy()
        finally:
            model.encoder.fast_inference = True
    assert codes.shape == offline.shape == (8, -(-length // 320))
    assert (codes == offline).all(axis=0).mean() >= 0.99


def test_latency_follows_from_the_padding_rules(model: EncodecModel) -> None:
    lat = latency(model)
    # Steady state: one frame (the encoder codes whole frames; the causal decoder needs no future frame).
    assert lat.steady_state_samples == 320
    assert lat.steady_state_ms == pytest.approx(13.333, abs=1e-3)
    # Start-up: the kernel-7 convs at frame rate reflect-pad the start and wait for 6 more frames.
    assert lat.first_output_samples == lat.samples == 7 * 320

    encoder, decoder = StreamingEncoder(model, 6.0), StreamingDecoder(model)
    audio = signal(0.5, seed=4)
    first = None
    for start in range(0, audio.shape[-1] - 319, 320):  # whole frames
        out = decoder.push(encoder.push(audio[:, start : start + 320]))
        if out.shape[-1] and first is None:
            first = start + 320
            assert out.shape[-1] == lat.first_output_samples  # the backlog comes out at once
        elif first is not None:
            assert out.shape[-1] == 320  # then one frame out per frame in
    assert first == lat.first_output_samples


def test_non_causal_models_are_refused_by_the_streaming_engine() -> None:
    with pytest.raises(UnsupportedStreamingError, match="not causal"):
        StreamingEncoder(tiny_model("encodec_48khz"), 6.0)


def test_segment_streaming_equals_offline_at_48khz(one_thread: None) -> None:
    model = tiny_model("encodec_48khz")
    codec = Codec(model)
    audio = signal(2.5, seed=6, channels=2, rate=48_000)
    encoded = codec.encode(audio, 48_000, 6.0)
    encoder = SegmentEncoder(model, 6.0)
    segments = []
    for start in range(0, audio.shape[-1], 7001):
        segments += encoder.push(audio[None, :, start : start + 7001])
    segments += encoder.flush()
    assert len(segments) == len(encoded.segments) == 3
    for ours, offline in zip(segments, encoded.segments, strict=True):
        np.testing.assert_array_equal(ours.codes.numpy(), offline.codes)
        np.testing.assert_array_equal(ours.scale.reshape(-1).numpy(), offline.scales)
    decoder = SegmentDecoder(model, batch_segments=2)
    parts = [p for s in segments if (p := decoder.push(s)) is not None]
    parts.append(decoder.flush())
    streamed = np.concatenate(parts, axis=-1)[0, :, : audio.shape[-1]]
    np.testing.assert_array_equal(streamed, codec.decode(encoded))
