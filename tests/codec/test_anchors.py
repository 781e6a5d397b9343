"""MUSHRA anchors: the BS.1534-3 mask on the response actually applied, zero lag, and signal-level checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from codec.baselines import (
    LOW_ANCHOR_CUTOFF_HZ,
    MID_ANCHOR_CUTOFF_HZ,
    anchor_filter_response,
    low_anchor,
    lowpass_anchor,
    mid_anchor,
)
from codec.errors import InvalidAudioError

MASK_RATES = [8000, 16000, 32000, 44100, 48000, 96000, 192000]
# (cutoff, passband edge we guarantee, 25 dB point, 50 dB region start): BS.1534-3 for 3.5 kHz, scaled x2 for 7 kHz.
MASKS = {
    LOW_ANCHOR_CUTOFF_HZ: (3200.0, 4000.0, 4500.0),
    MID_ANCHOR_CUTOFF_HZ: (6400.0, 8000.0, 9000.0),
}


def _sine(freq_hz: float, sample_rate: int, duration_s: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)[np.newaxis, :]


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


@pytest.mark.parametrize("cutoff_hz", sorted(MASKS))
@pytest.mark.parametrize("sample_rate", MASK_RATES)
def test_effective_response_meets_the_mask(sample_rate: int, cutoff_hz: float) -> None:
    passband_edge, point_25db, start_50db = MASKS[cutoff_hz]
    nyquist = sample_rate / 2
    if nyquist <= cutoff_hz:
        freqs = np.linspace(0, nyquist, 101)
        np.testing.assert_array_equal(anchor_filter_response(sample_rate, cutoff_hz, freqs), 0.0)
        return
    passband = np.linspace(0, passband_edge, 4001)
    response = anchor_filter_response(sample_rate, cutoff_hz, passband)
    assert np.abs(response).max() <= 0.1
    if point_25db <= nyquist:
        assert anchor_filter_response(sample_rate, cutoff_hz, np.array([point_25db]))[0] <= -25.0
    if start_50db <= nyquist:
        stopband = np.linspace(start_50db, nyquist, 20001)
        assert anchor_filter_response(sample_rate, cutoff_hz, stopband).max() <= -50.0
    assert anchor_filter_response(sample_rate, cutoff_hz, np.array([cutoff_hz]))[0] == pytest.approx(-6.02, abs=0.5)


@pytest.mark.parametrize("sample_rate", [44100, 48000, 32000, 96000, 16000])
def test_impulse_and_chirp_come_out_with_zero_lag(sample_rate: int) -> None:
    impulse = np.zeros((1, sample_rate // 2), dtype=np.float32)
    impulse[0, 5000] = 1.0
    assert int(np.argmax(low_anchor(impulse, sample_rate)[0])) == 5000
    assert int(np.argmax(mid_anchor(impulse, sample_rate)[0])) == 5000
    t = np.arange(sample_rate // 2) / sample_rate
    chirp = signal.chirp(t, 50, t[-1], 3000).astype(np.float32)[np.newaxis, :]
    filtered = low_anchor(chirp, sample_rate)
    corr = signal.correlate(filtered[0], chirp[0], mode="full", method="fft")
    lags = signal.correlation_lags(filtered.shape[1], chirp.shape[1])
    assert lags[np.argmax(corr)] == 0


@pytest.mark.parametrize("sample_rate", [44100, 48000])
def test_1khz_sine_passes_within_0_1_db(sample_rate: int) -> None:
    tone = _sine(1000.0, sample_rate)
    middle = slice(sample_rate // 10, -sample_rate // 10)  # away from the edges, where the FIR sees zeros
    for anchor in (low_anchor, mid_anchor):
        out = anchor(tone, sample_rate)
        assert abs(_rms_db(out[:, middle]) - _rms_db(tone[:, middle])) <= 0.1
        # Zero phase: the output is the input, sample for sample, not a delayed copy.
        np.testing.assert_allclose(out[:, middle], tone[:, middle], atol=2e-3)


@pytest.mark.parametrize("sample_rate", [44100, 48000, 96000])
def test_6khz_sine_is_at_least_50_db_down_through_the_low_anchor(sample_rate: int) -> None:
    tone = _sine(6000.0, sample_rate)
    middle = slice(sample_rate // 10, -sample_rate // 10)
    out = low_anchor(tone, sample_rate)
    assert _rms_db(out[:, middle]) - _rms_db(tone[:, middle]) <= -50.0
    # The mid anchor keeps 6 kHz (inside its 6.4 kHz passband).
    assert abs(_rms_db(mid_anchor(tone, sample_rate)[:, middle]) - _rms_db(tone[:, middle])) <= 0.1


def test_shape_and_dtype_are_kept_and_channels_are_independent() -> None:
    sample_rate = 48000
    low = _sine(1000.0, sample_rate)[0]
    high = _sine(6000.0, sample_rate)[0]
    stereo = np.stack([low, high]).astype(np.float64)
    out = low_anchor(stereo, sample_rate)
    assert out.shape == stereo.shape and out.dtype == np.float32
    np.testing.assert_allclose(out[0], low_anchor(low[np.newaxis], sample_rate)[0])
    np.testing.assert_allclose(out[1], low_anchor(high[np.newaxis], sample_rate)[0])
    assert np.abs(out[1, 4800:-4800]).max() < 0.5 * 10 ** (-50 / 20)  # no 6 kHz leaks from either channel
    assert low_anchor(low, sample_rate).shape == (1, low.size)  # [T] is read as mono [1, T]


def test_anchor_equals_input_when_nyquist_is_at_or_below_the_cutoff() -> None:
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 4000)).astype(np.float32)
    for sample_rate in (8000, 11025, 14000):
        np.testing.assert_array_equal(mid_anchor(noise, sample_rate), noise)
    assert mid_anchor(noise, 8000) is not noise  # a copy, not the caller's buffer
    np.testing.assert_array_equal(lowpass_anchor(noise, 7000, 3500.0), noise)


def test_bad_input_raises_invalid_audio_error() -> None:
    tone = _sine(1000.0, 48000)
    for cutoff in (0.0, -1.0, float("nan"), "3500"):
        with pytest.raises(InvalidAudioError):
            lowpass_anchor(tone, 48000, cutoff)  # type: ignore[arg-type]
    with pytest.raises(InvalidAudioError):
        low_anchor(tone, 0)
    with pytest.raises(InvalidAudioError):
        low_anchor(np.zeros((1, 0), dtype=np.float32), 48000)
    with pytest.raises(InvalidAudioError):
        anchor_filter_response(48000, 3500.0, np.array([30000.0]))
