"""Alignment of a condition with its reference: lag, rate, channels, length."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from codec.errors import InvalidAudioError
from codec.evaluation import AlignedCondition, align, measure_lag

SAMPLE_RATE = 44100


def _music_like(num_samples: int = SAMPLE_RATE, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Noise shaped towards low frequencies plus a few tones: broadband but not white."""
    rng = np.random.default_rng(seed)
    noise = signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal((channels, num_samples)), axis=-1)
    t = np.arange(num_samples) / SAMPLE_RATE
    tones = sum(np.sin(2 * np.pi * f * t + p) for f, p in ((220.0, 0.1), (330.0, 1.0), (1234.0, 2.0)))
    audio = 0.02 * noise + 0.05 * tones
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32)


def _delay(audio: np.ndarray, lag: int) -> np.ndarray:
    """``out[n] = audio[n - lag]`` with zeros shifted in, same length."""
    out = np.zeros_like(audio)
    if lag >= 0:
        out[:, lag:] = audio[:, : audio.shape[1] - lag]
    else:
        out[:, :lag] = audio[:, -lag:]
    return out


@pytest.mark.parametrize("weighting", ["none", "phat"])
@pytest.mark.parametrize("lag", [1105, -37, 0])
def test_delayed_copy_aligns_exactly(lag: int, weighting: str) -> None:
    reference = _music_like()
    degraded = _delay(reference, lag)
    assert measure_lag(reference, degraded, SAMPLE_RATE, weighting=weighting) == lag
    result = align(reference, degraded, SAMPLE_RATE, weighting=weighting)
    assert isinstance(result, AlignedCondition)
    assert result.lag_samples == lag and result.sample_rate == SAMPLE_RATE
    assert result.audio.shape == reference.shape and result.audio.dtype == np.float32
    valid = slice(abs(lag), reference.shape[1] - abs(lag))  # where the shifted copy still has samples
    np.testing.assert_array_equal(result.audio[:, valid], reference[:, valid])
    assert measure_lag(reference, result.audio, SAMPLE_RATE) == 0


def test_noisy_low_passed_delayed_copy_still_aligns() -> None:
    reference = _music_like()
    sos = signal.butter(8, 4000, fs=SAMPLE_RATE, output="sos")
    degraded = signal.sosfiltfilt(sos, _delay(reference, 1105), axis=-1)  # zero phase: the lag stays 1105
    degraded += 0.05 * np.random.default_rng(1).standard_normal(degraded.shape)
    degraded = degraded.astype(np.float32)
    assert measure_lag(reference, degraded, SAMPLE_RATE) == 1105
    assert align(reference, degraded, SAMPLE_RATE).lag_samples == 1105


def test_other_rate_and_channel_count_are_brought_to_the_reference() -> None:
    # Band-limit to 15 kHz so that resampling there and back is transparent and only alignment errors remain.
    sos = signal.butter(12, 15000, fs=SAMPLE_RATE, output="sos")
    reference = signal.sosfiltfilt(sos, _music_like(channels=2), axis=-1).astype(np.float32)
    mono_48k = signal.resample_poly(reference.mean(axis=0), 160, 147).astype(np.float32)  # 44.1 -> 48 kHz
    delayed = np.concatenate([np.zeros(480, dtype=np.float32), mono_48k])  # 10 ms late, and longer
    result = align(reference, delayed, SAMPLE_RATE, degraded_rate=48000)
    assert result.audio.shape == reference.shape
    assert result.lag_samples == 441  # 10 ms at the reference rate
    np.testing.assert_allclose(result.audio[0], result.audio[1])
    middle = slice(2000, -2000)
    expected = reference.mean(axis=0)[middle]
    error = result.audio[0, middle] - expected
    assert 10 * np.log10(np.mean(error**2) / np.mean(expected**2)) < -40
    one_off = result.audio[0, 2001:-1999] - expected  # a one-sample misalignment would be far worse
    assert 10 * np.log10(np.mean(one_off**2) / np.mean(expected**2)) > -30


def test_shorter_condition_is_zero_padded_and_longer_one_trimmed() -> None:
    reference = _music_like(channels=1)
    short = align(reference, reference[:, :30000], SAMPLE_RATE)
    assert short.audio.shape == reference.shape and short.lag_samples == 0
    assert not np.any(short.audio[:, 30000:])
    long = align(reference, np.concatenate([reference, reference[:, :100]], axis=1), SAMPLE_RATE)
    np.testing.assert_array_equal(long.audio, reference)


def test_silence_gives_lag_zero() -> None:
    reference = _music_like()
    silence = np.zeros_like(reference)
    assert measure_lag(reference, silence, SAMPLE_RATE) == 0
    assert measure_lag(silence, reference, SAMPLE_RATE) == 0
    result = align(silence, silence, SAMPLE_RATE)
    assert result.lag_samples == 0 and not np.any(result.audio)


def test_lag_beyond_max_lag_is_not_found_and_bad_arguments_raise() -> None:
    reference = _music_like()
    assert measure_lag(reference, _delay(reference, 1105), SAMPLE_RATE, max_lag_s=0.01) != 1105
    with pytest.raises(InvalidAudioError):
        measure_lag(reference, reference, SAMPLE_RATE, max_lag_s=-1.0)
    with pytest.raises(InvalidAudioError):
        measure_lag(reference, reference, SAMPLE_RATE, weighting="scot")  # type: ignore[arg-type]
    with pytest.raises(InvalidAudioError):
        align(reference, np.zeros((6, 100), dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(InvalidAudioError):
        align(reference, reference, SAMPLE_RATE, degraded_rate=0)
