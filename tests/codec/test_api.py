"""The public API: any rate and channel count in, the same shape out; clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codec import (
    Codec,
    InvalidAudioError,
    ModelNotFoundError,
    UnknownBitrateError,
    available_bitrates,
    list_models,
    load_codec,
)
from codec.api import from_streams, to_streams
from codec.testing import random_codec_checkpoint


@pytest.fixture(scope="module")
def codec_24k(tmp_path_factory: pytest.TempPathFactory) -> Codec:
    path = random_codec_checkpoint(tmp_path_factory.mktemp("models") / "m24.safetensors", "encodec_24khz")
    return load_codec(path)


@pytest.fixture(scope="module")
def codec_48k(tmp_path_factory: pytest.TempPathFactory) -> Codec:
    path = random_codec_checkpoint(tmp_path_factory.mktemp("models") / "m48.safetensors", "encodec_48khz")
    return load_codec(path)


def tone(channels: int, seconds: float, sample_rate: int) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)]).astype(np.float32)


@pytest.mark.parametrize(("channels", "sample_rate"), [(1, 24_000), (2, 44_100), (1, 8_000), (3, 16_000), (2, 96_000)])
def test_reconstruct_keeps_shape_and_rate(codec_24k: Codec, channels: int, sample_rate: int) -> None:
    audio = tone(channels, 0.5, sample_rate)
    out = codec_24k.reconstruct(audio, sample_rate, 6.0)
    assert out.shape == audio.shape
    assert out.dtype == np.float32
    assert np.isfinite(out).all()


def test_mono_model_codes_each_channel_and_reports_real_bitrate(codec_24k: Codec) -> None:
    mono = codec_24k.encode(tone(1, 2.0, 24_000), 24_000, 6.0)
    stereo = codec_24k.encode(tone(2, 2.0, 24_000), 24_000, 6.0)
    assert mono.num_streams == 1 and stereo.num_streams == 2
    assert mono.num_codebooks == 8
    assert mono.bitrate_kbps == pytest.approx(6.0, rel=0.01)
    assert stereo.bitrate_kbps == pytest.approx(12.0, rel=0.01)


def test_channels_are_not_mixed_between_streams(codec_24k: Codec) -> None:
    audio = tone(2, 1.0, 24_000)
    audio[1] = 0.0
    out = codec_24k.reconstruct(audio, 24_000, 24.0)
    silent = codec_24k.reconstruct(np.zeros((1, 24_000), np.float32), 24_000, 24.0)
    np.testing.assert_allclose(out[1], silent[0], atol=1e-6)


def test_stereo_model_takes_mono_and_many_channels(codec_48k: Codec) -> None:
    for channels in (1, 3):
        audio = tone(channels, 1.1, 48_000)
        encoded = codec_48k.encode(audio, 48_000, 12.0)
        assert encoded.num_streams == max(1, -(-channels // 2))
        assert len(encoded.segments) == 2  # 1.1 s in 1 s segments with a 0.99 s stride
        assert codec_48k.decode(encoded).shape == audio.shape


def test_stream_layout_round_trips() -> None:
    audio = np.arange(5 * 4, dtype=np.float32).reshape(5, 4)
    streams = to_streams(audio, 2)
    assert streams.shape == (3, 2, 4)
    np.testing.assert_array_equal(from_streams(streams, 5), audio)
    np.testing.assert_array_equal(from_streams(to_streams(audio[:1], 2), 1), audio[:1])


@pytest.mark.parametrize("bitrate", [5.0, 0.0, -6.0, 48.0, float("nan")])
def test_unknown_bitrate_names_the_allowed_ones(codec_24k: Codec, bitrate: float) -> None:
    with pytest.raises(UnknownBitrateError, match=r"allowed: 1\.5, 3, 6, 12, 24 kbps"):
        codec_24k.encode(tone(1, 0.1, 24_000), 24_000, bitrate)


@pytest.mark.parametrize(("audio", "message"), [
    (np.zeros((1, 0), np.float32), "empty"),
    (np.zeros((0, 100), np.float32), "empty"),
    (np.array([[0.0, np.nan, 0.1]], np.float32), "NaN"),
    (np.array([[0.0, np.inf, 0.1]], np.float32), "infinite"),
    (np.zeros((1, 2, 3), np.float32), "dimension"),
])
def test_bad_audio_is_refused_clearly(codec_24k: Codec, audio: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidAudioError, match=message):
        codec_24k.encode(audio, 24_000, 6.0)


@pytest.mark.parametrize("sample_rate", [0, -1, 44_100.5, 10_000_000])
def test_bad_sample_rate_is_refused(codec_24k: Codec, sample_rate: float) -> None:
    with pytest.raises(InvalidAudioError, match="sample rate"):
        codec_24k.encode(tone(1, 0.1, 24_000), sample_rate, 6.0)  # type: ignore[arg-type]


def test_very_short_input(codec_24k: Codec, codec_48k: Codec) -> None:
    for codec in (codec_24k, codec_48k):
        out = codec.reconstruct(np.full((1, 1), 0.1, np.float32), codec.sample_rate, codec.bitrates_kbps[0])
        assert out.shape == (1, 1)


def test_unknown_model_name_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"encodec_24khz-d7cc33bc\.th"):
        load_codec("encodec_24khz", search_dirs=[], hub_dir=tmp_path)
    with pytest.raises(ModelNotFoundError, match="no model file or installed model named 'nope'"):
        load_codec("nope", search_dirs=[tmp_path], hub_dir=tmp_path)


def test_random_models_are_never_listed_as_installed(tmp_path: Path) -> None:
    random_codec_checkpoint(tmp_path / "random.safetensors")
    assert list_models(search_dirs=[tmp_path], hub_dir=tmp_path) == []


def test_available_bitrates_from_config_alone(tmp_path: Path) -> None:
    path = random_codec_checkpoint(tmp_path / "m.safetensors", "encodec_48khz")
    assert available_bitrates(path) == (3.0, 6.0, 12.0, 24.0)
