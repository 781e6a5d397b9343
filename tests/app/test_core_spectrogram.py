"""Spectrograms for display: level calibration, array layout, difference, column cap."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from app.core.spectrogram import FLOOR_DB, MAX_COLUMNS, Spectrogram, compute_spectrogram, difference


def sine(freq_hz: float, sample_rate: int, duration_s: float, amplitude: float, channels: int = 1) -> np.ndarray:
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    return np.repeat((amplitude * np.sin(2 * np.pi * freq_hz * t))[None, :], channels, axis=0).astype(np.float32)


@pytest.mark.parametrize("amplitude", [1.0, 0.5, 0.01])
def test_a_sine_peaks_in_its_bin_at_its_level(amplitude: float) -> None:
    rate = 16_000  # 1 kHz falls exactly on bin 64 of a 1024-point FFT
    spec = compute_spectrogram(sine(1000.0, rate, 1.0, amplitude), rate)
    middle = spec.db[:, spec.db.shape[1] // 2]
    peak = int(np.argmax(middle))
    assert spec.freqs_hz[peak] == pytest.approx(1000.0)
    assert middle[peak] == pytest.approx(20 * np.log10(amplitude), abs=0.1)
    assert middle[peak + 20] < middle[peak] - 60  # Hann leakage is far down 20 bins away


def test_off_bin_sine_reads_within_scalloping_loss() -> None:
    spec = compute_spectrogram(sine(1000.0, 48_000, 0.5, 0.5), 48_000)
    middle = spec.db[:, spec.db.shape[1] // 2]
    assert abs(spec.freqs_hz[np.argmax(middle)] - 1000.0) < 48_000 / 1024
    assert middle.max() == pytest.approx(-6.02, abs=1.5)  # Hann scalloping loss is at most 1.42 dB


def test_layout_shapes_and_dtypes() -> None:
    audio = sine(440.0, 24_000, 0.5, 0.5, channels=2)
    spec = compute_spectrogram(audio, 24_000, n_fft=1024, hop=256)
    assert spec.db.shape == (513, 1 + 12_000 // 256)
    assert spec.db.dtype == np.float32 and spec.db.flags.c_contiguous
    assert spec.freqs_hz.shape == (513,) and spec.freqs_hz[-1] == pytest.approx(12_000.0)
    assert spec.times_s.shape == (spec.db.shape[1],) and spec.times_s[1] == pytest.approx(256 / 24_000)
    assert spec.hop == 256 and spec.sample_rate == 24_000
    assert np.isfinite(spec.db).all() and spec.db.min() >= FLOOR_DB
    x0, y0, width, height = spec.extent
    assert x0 == pytest.approx(-128 / 24_000) and width == pytest.approx(spec.db.shape[1] * 256 / 24_000)
    assert y0 == pytest.approx(-24_000 / 2048) and height == pytest.approx(513 * 24_000 / 1024)


def test_silence_sits_at_the_floor() -> None:
    spec = compute_spectrogram(np.zeros((1, 4000), dtype=np.float32), 16_000)
    assert (spec.db == FLOOR_DB).all()


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        compute_spectrogram(np.zeros(100, dtype=np.float32), 16_000)
    with pytest.raises(ValueError):
        compute_spectrogram(np.zeros((1, 0), dtype=np.float32), 16_000)


def test_difference_of_identical_signals_is_zero() -> None:
    audio = np.random.default_rng(0).standard_normal((2, 24_000)).astype(np.float32) * 0.1
    a = compute_spectrogram(audio, 24_000)
    b = compute_spectrogram(audio.copy(), 24_000)
    diff = difference(a, b)
    assert diff.db.shape == a.db.shape and diff.db.dtype == np.float32 and diff.db.flags.c_contiguous
    assert np.all(diff.db == 0.0)


def test_a_low_passed_copy_loses_everything_above_the_cutoff() -> None:
    rate, cutoff_hz = 48_000, 12_000
    noise = np.random.default_rng(1).standard_normal((1, rate)).astype(np.float32) * 0.1
    sos = scipy.signal.butter(12, cutoff_hz, fs=rate, output="sos")
    lowpassed = scipy.signal.sosfiltfilt(sos, noise, axis=-1).astype(np.float32)
    diff = difference(compute_spectrogram(noise, rate), compute_spectrogram(lowpassed, rate))
    inner = diff.db[:, 10:-10]  # away from the filter's edge transients
    above = inner[diff.freqs_hz > cutoff_hz * 1.2]
    below = inner[diff.freqs_hz < cutoff_hz * 0.8]
    assert np.median(above) < -40.0
    assert np.abs(np.median(below)) < 1.0


def test_difference_rejects_mismatched_grids() -> None:
    short = compute_spectrogram(np.zeros((1, 1000), dtype=np.float32), 16_000)
    long = compute_spectrogram(np.zeros((1, 2000), dtype=np.float32), 16_000)
    other_rate = compute_spectrogram(np.zeros((1, 1000), dtype=np.float32), 24_000)
    with pytest.raises(ValueError):
        difference(short, long)
    with pytest.raises(ValueError):
        difference(short, other_rate)


def test_long_input_is_capped_in_columns_and_keeps_transients() -> None:
    rate = 8000
    audio = np.zeros((1, rate * 300), dtype=np.float32)  # 5 minutes: 9376 frames at hop 256
    click_at = rate * 200 + 17
    audio[0, click_at] = 1.0
    spec = compute_spectrogram(audio, rate)
    assert isinstance(spec, Spectrogram)
    assert spec.db.shape[1] <= MAX_COLUMNS and spec.db.flags.c_contiguous
    assert spec.hop == 256 * 3 and spec.times_s[-1] <= 300.0 + spec.column_s
    column = int(np.argmax(spec.db.max(axis=0)))
    assert abs(spec.times_s[column] - click_at / rate) <= spec.column_s  # max-pooling kept the click
    assert spec.db[:, column].max() > -80.0
    capped = compute_spectrogram(audio[:, : rate * 10], rate, max_columns=50)
    assert capped.db.shape[1] <= 50
