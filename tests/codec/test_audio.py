"""Tests for codec.audio: validation, resampling, channel conversion and audio files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codec.audio import (
    as_audio_array,
    convert_channels,
    iter_audio_blocks,
    read_audio,
    read_audio_info,
    resample,
    write_audio,
)
from codec.errors import AudioFileError, InvalidAudioError


def _sine(frequency_hz: float, sample_rate: int, duration_s: float, channels: int = 1) -> np.ndarray:
    t = np.arange(round(sample_rate * duration_s)) / sample_rate
    return np.tile(0.5 * np.sin(2 * np.pi * frequency_hz * t), (channels, 1)).astype(np.float32)


def _peak_frequency_hz(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1])))
    return float(np.fft.rfftfreq(audio.shape[1], 1 / sample_rate)[np.argmax(spectrum)])


# --- as_audio_array -------------------------------------------------------------------------------------------------


def test_mono_becomes_one_channel() -> None:
    audio = as_audio_array(np.zeros(100, dtype=np.float64))
    assert audio.shape == (1, 100)
    assert audio.dtype == np.float32
    assert audio.flags.c_contiguous


def test_shape_is_taken_as_given() -> None:
    assert as_audio_array(np.zeros((2, 100))).shape == (2, 100)
    assert as_audio_array(np.zeros((50, 2))).shape == (50, 2)
    assert as_audio_array(np.asfortranarray(np.ones((3, 7)))).flags.c_contiguous
    assert as_audio_array([[0.1, 0.2], [0.3, 0.4]]).shape == (2, 2)


def test_float32_input_passes_through() -> None:
    audio = np.zeros((2, 10), dtype=np.float32)
    assert as_audio_array(audio) is audio


@pytest.mark.parametrize(
    ("dtype", "values", "expected"),
    [
        (np.int16, [-32768, 0, 16384, 32767], [-1.0, 0.0, 0.5, 32767 / 32768]),
        (np.int32, [-(2**31), 0, 2**30], [-1.0, 0.0, 0.5]),
        (np.int8, [-128, 64], [-1.0, 0.5]),
        (np.uint8, [0, 128, 192, 255], [-1.0, 0.0, 0.5, 127 / 128]),
    ],
)
def test_integer_pcm_is_scaled(dtype: type, values: list[int], expected: list[float]) -> None:
    audio = as_audio_array(np.array(values, dtype=dtype))
    assert audio.dtype == np.float32
    np.testing.assert_allclose(audio[0], expected, rtol=0, atol=1e-7)
    assert audio.min() >= -1.0 and audio.max() < 1.0


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (np.zeros(0), "empty"),
        (np.zeros((2, 0)), "empty"),
        (np.zeros((0, 10)), "empty"),
        (np.float32(0.5), "0 dimension"),
        (np.zeros((1, 2, 3)), "3 dimension"),
        (np.zeros((65, 10)), "65 channels.*transpose"),
        (np.zeros((1000, 2)), "1000 channels"),
        (np.array([0.0, np.nan, np.nan, 1.0]), "2 NaN and 0 infinite.*sample 1"),
        (np.array([[0.0, 0.0], [np.inf, -np.inf]]), "0 NaN and 2 infinite.*channel 1, sample 0"),
        (np.array([1e300, 0.0]), "too large"),
        (np.array([1 + 1j, 0j]), "dtype complex"),
        (np.array([True, False]), "dtype bool"),
        (np.array(["a", "b"]), "dtype <U1"),
        (np.array([object(), object()]), "dtype object"),
        ([[0.1, 0.2], [0.3]], "rectangular"),
    ],
)
def test_invalid_audio_is_rejected(audio: object, message: str) -> None:
    with pytest.raises(InvalidAudioError, match=message):
        as_audio_array(audio)


# --- resample -------------------------------------------------------------------------------------------------------


def test_resample_keeps_frequency_and_length() -> None:
    audio = _sine(1000.0, 44_100, 1.0, channels=2)
    resampled = resample(audio, 44_100, 24_000)
    assert resampled.shape == (2, round(audio.shape[1] * 24 / 44.1))
    assert resampled.dtype == np.float32 and resampled.flags.c_contiguous
    assert _peak_frequency_hz(resampled, 24_000) == pytest.approx(1000.0, abs=1.0)
    np.testing.assert_allclose(np.abs(resampled[:, 1000:-1000]).max(), 0.5, atol=0.01)


@pytest.mark.parametrize("num_samples", [1001, 4410, 12345])
def test_resample_length(num_samples: int) -> None:
    resampled = resample(np.zeros(num_samples, dtype=np.float32), 44_100, 24_000)
    assert resampled.shape == (1, round(num_samples * 24_000 / 44_100))


def test_resample_same_rate_is_identity() -> None:
    audio = _sine(440.0, 24_000, 0.1)
    assert resample(audio, 24_000, 24_000) is audio


@pytest.mark.parametrize("rate", [0, -1, 768_001, 44_100.5, 44_100.0, "44100", True, None])
def test_resample_rejects_bad_rates(rate: object) -> None:
    audio = _sine(440.0, 24_000, 0.01)
    with pytest.raises(InvalidAudioError, match="sample rate"):
        resample(audio, rate, 24_000)
    with pytest.raises(InvalidAudioError, match="sample rate"):
        resample(audio, 24_000, rate)


# --- convert_channels -----------------------------------------------------------------------------------------------


def test_channel_conversions() -> None:
    mono = np.arange(6, dtype=np.float32).reshape(1, 6)
    stereo = convert_channels(mono, 2)
    np.testing.assert_array_equal(stereo, np.vstack([mono, mono]))
    np.testing.assert_array_equal(convert_channels(mono, 6), np.repeat(mono, 6, axis=0))
    pair = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    np.testing.assert_array_equal(convert_channels(pair, 1), [[2.0, 4.0]])
    assert convert_channels(np.ones((6, 4)), 1).shape == (1, 4)
    assert convert_channels(stereo, 2) is stereo


@pytest.mark.parametrize(
    ("source", "target", "message"), [(6, 2, "cannot convert 6 channels to 2.*mono"), (2, 0, "1..64")]
)
def test_unsupported_channel_conversion(source: int, target: int, message: str) -> None:
    with pytest.raises(InvalidAudioError, match=message):
        convert_channels(np.zeros((source, 10)), target)


# --- files ----------------------------------------------------------------------------------------------------------


def test_wav_round_trip_is_exact(tmp_path: Path) -> None:
    audio = np.random.default_rng(0).uniform(-1.5, 1.5, size=(2, 1000)).astype(np.float32)
    write_audio(tmp_path / "a.wav", audio, 24_000)
    read_back, sample_rate = read_audio(tmp_path / "a.wav")
    assert sample_rate == 24_000
    assert read_back.dtype == np.float32
    np.testing.assert_array_equal(read_back, audio)
    info = read_audio_info(str(tmp_path / "a.wav"))
    assert (info.sample_rate, info.channels, info.num_frames, info.subtype) == (24_000, 2, 1000, "FLOAT")
    assert info.duration_s == pytest.approx(1000 / 24_000)


@pytest.mark.parametrize(("name", "subtype", "atol"), [("a.flac", "FLOAT", 1e-6), ("a.wav", "PCM_16", 1e-4)])
def test_pcm_formats_round_trip(tmp_path: Path, name: str, subtype: str, atol: float) -> None:
    audio = _sine(440.0, 48_000, 0.1)
    write_audio(tmp_path / name, audio, 48_000, subtype=subtype)
    read_back, sample_rate = read_audio(tmp_path / name)
    assert sample_rate == 48_000
    np.testing.assert_allclose(read_back, audio, atol=atol)


def test_ogg_is_written(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.ogg", _sine(440.0, 48_000, 0.5, channels=2), 48_000)
    read_back, sample_rate = read_audio(tmp_path / "a.ogg")
    assert sample_rate == 48_000 and read_back.shape[0] == 2
    assert _peak_frequency_hz(read_back, 48_000) == pytest.approx(440.0, abs=3.0)


def test_integer_subtypes_clip(tmp_path: Path) -> None:
    write_audio(tmp_path / "loud.wav", np.array([[2.0, -2.0, 0.5]]), 8000, subtype="PCM_16")
    read_back, _ = read_audio(tmp_path / "loud.wav")
    np.testing.assert_allclose(read_back[0], [32767 / 32768, -1.0, 0.5], atol=1e-4)


@pytest.mark.parametrize(
    ("name", "subtype", "message"),
    [
        ("a.mp4", "FLOAT", "unknown extension"),
        ("a.wav", "VORBIS", "no subtype 'VORBIS'"),
        ("no/dir/a.wav", "FLOAT", "does not exist"),
    ],
)
def test_write_errors(tmp_path: Path, name: str, subtype: str, message: str) -> None:
    with pytest.raises(AudioFileError, match=message):
        write_audio(tmp_path / name, np.zeros((1, 10)), 8000, subtype=subtype)


def test_write_validates_samples(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudioError, match="NaN"):
        write_audio(tmp_path / "a.wav", np.array([np.nan, 0.0]), 8000)
    with pytest.raises(InvalidAudioError, match="sample rate"):
        write_audio(tmp_path / "a.wav", np.zeros(4), 0)


def _with_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _corrupt(path: Path) -> Path:
    return _with_bytes(path, np.random.default_rng(0).bytes(4096))


def _zero_length(path: Path) -> Path:
    sf.write(path, np.zeros((0, 1), dtype=np.float32), 8000, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.wav", r"missing\.wav.*no such file"),
        (lambda tmp: tmp, "directory"),
        (lambda tmp: _with_bytes(tmp / "empty.wav", b""), r"empty\.wav.*empty"),
        (lambda tmp: _corrupt(tmp / "noise.wav"), r"noise\.wav"),
        (lambda tmp: _with_bytes(tmp / "text.flac", b"hello " * 100), r"text\.flac"),
        (lambda tmp: _zero_length(tmp / "zero.wav"), r"zero\.wav.*no samples"),
    ],
)
def test_unreadable_files(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(AudioFileError, match=message):
        read_audio(path)
    with pytest.raises(AudioFileError, match=message):
        list(iter_audio_blocks(path, 256))


def test_unreadable_file_info(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match=r"noise\.wav"):
        read_audio_info(_corrupt(tmp_path / "noise.wav"))


def test_non_finite_file_content(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    sf.write(path, np.array([0.0, np.nan, np.inf], dtype=np.float32), 8000, subtype="FLOAT")
    with pytest.raises(InvalidAudioError, match=r"nan\.wav.*1 NaN and 1 infinite"):
        read_audio(path)
    with pytest.raises(InvalidAudioError, match="1 NaN"):
        list(iter_audio_blocks(path, 2))


def test_blocks_cover_the_file(tmp_path: Path) -> None:
    audio = np.random.default_rng(1).uniform(-1, 1, size=(2, 1000)).astype(np.float32)
    write_audio(tmp_path / "a.wav", audio, 16_000)
    blocks = list(iter_audio_blocks(tmp_path / "a.wav", 300))
    assert [block.shape for block in blocks] == [(2, 300), (2, 300), (2, 300), (2, 100)]
    assert all(block.dtype == np.float32 for block in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), audio)


@pytest.mark.parametrize("block_frames", [0, -5, 2.5, True])
def test_blocks_reject_bad_sizes_at_once(tmp_path: Path, block_frames: object) -> None:
    with pytest.raises(ValueError, match="block_frames"):
        iter_audio_blocks(tmp_path / "missing.wav", block_frames)
