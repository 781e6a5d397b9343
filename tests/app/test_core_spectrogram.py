"""Spectrograms for display: level calibration, array layout, difference, column cap, log-frequency rows."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from app.core.frequency_scale import (
    LOG_ROWS,
    displayed_difference,
    frequency_at,
    frequency_position,
    log_frequency_ticks,
    to_log_frequency,
)
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


# ------------------------------------------------------------------------------------------ log-frequency rows
def middle_column(spec: Spectrogram) -> np.ndarray:
    return spec.db[:, spec.db.shape[1] // 2]


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_a_1khz_sine_lands_on_the_1khz_row_at_its_level(rate: int) -> None:
    linear = compute_spectrogram(sine(1000.0, rate, 0.5, 0.5), rate)
    log = to_log_frequency(linear)
    assert log.log_frequency and log.db.shape == (LOG_ROWS, linear.db.shape[1])
    assert log.db.dtype == np.float32 and log.db.flags.c_contiguous and np.isfinite(log.db).all()
    rows_hz = log.freqs_hz
    assert np.allclose(np.diff(np.log10(rows_hz)), np.log10(rows_hz[1] / rows_hz[0]))  # equally spaced in log
    assert 20.0 <= rows_hz[0] <= 50.0 and rows_hz[-1] == pytest.approx(rate / 2)
    peak_row = int(np.argmax(middle_column(log)))
    nearest_bin_hz = linear.freqs_hz[np.argmax(middle_column(linear))]  # 1000 Hz at 16 kHz, 984 Hz at 48 kHz
    assert peak_row == int(np.argmin(np.abs(rows_hz - nearest_bin_hz)))
    assert abs(np.log2(rows_hz[peak_row] / 1000.0)) < 1 / 24  # within a quarter tone of 1 kHz
    assert middle_column(log).max() == pytest.approx(middle_column(linear).max(), abs=0.5)
    # Where a row spans many bins, a narrow tone between row centres keeps its level (the loudest bin is taken).
    high = compute_spectrogram(sine(0.37 * rate, rate, 0.5, 0.5), rate)
    assert middle_column(to_log_frequency(high)).max() == pytest.approx(middle_column(high).max(), abs=1e-4)


def test_log_extent_and_positions_place_rows_in_log10_hz() -> None:
    log = to_log_frequency(compute_spectrogram(sine(440.0, 24_000, 0.2, 0.5), 24_000))
    _, y0, _, height = log.extent
    step = np.log10(log.freqs_hz[1] / log.freqs_hz[0])
    assert y0 == pytest.approx(np.log10(log.freqs_hz[0]) - step / 2)
    assert y0 + height == pytest.approx(np.log10(12_000.0) + step / 2)
    row_of_12k = int((frequency_position(12_000.0, True) - y0) / height * log.db.shape[0])
    assert log.freqs_hz[row_of_12k] == pytest.approx(12_000.0, rel=0.01)
    assert frequency_position(1000.0, True) == pytest.approx(3.0) and frequency_position(1000.0, False) == 1000.0
    assert frequency_at(frequency_position(440.0, True), True) == pytest.approx(440.0)
    assert to_log_frequency(log) is log


def test_log_difference_is_taken_of_the_displayed_spectra() -> None:
    rate, cutoff_hz = 48_000, 12_000
    noise = np.random.default_rng(2).standard_normal((1, rate // 2)).astype(np.float32) * 0.1
    sos = scipy.signal.butter(12, cutoff_hz, fs=rate, output="sos")
    lowpassed = scipy.signal.sosfiltfilt(sos, noise, axis=-1).astype(np.float32)
    original, codec = compute_spectrogram(noise, rate), compute_spectrogram(lowpassed, rate)
    linear_diff = difference(original, codec)
    assert displayed_difference(original, codec, linear_diff) is linear_diff
    log_original, log_codec = to_log_frequency(original), to_log_frequency(codec)
    shown = displayed_difference(log_original, log_codec, linear_diff)
    assert shown is not None and shown.log_frequency
    np.testing.assert_array_equal(shown.db, log_codec.db - log_original.db)
    inner = shown.db[:, 5:-5]
    assert np.median(inner[shown.freqs_hz > cutoff_hz * 1.2]) < -40.0
    assert abs(np.median(inner[(shown.freqs_hz > 200) & (shown.freqs_hz < cutoff_hz * 0.8)])) < 1.0
    with pytest.raises(ValueError):
        difference(original, log_codec)


def test_log_ticks_are_labelled_at_1_2_5_steps() -> None:
    major, minor = log_frequency_ticks(20.0, 24_000.0)
    labels = [label for _, label in major]
    assert labels == ["20", "50", "100", "200", "500", "1k", "2k", "5k", "10k", "20k"]
    assert [p for p, _ in major] == pytest.approx(np.log10([20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4]))
    assert all(label == "" for _, label in minor) and (np.log10(3000.0), "") in minor
    assert [label for _, label in log_frequency_ticks(46.9, 12_000.0)[0]][:2] == ["50", "100"]
