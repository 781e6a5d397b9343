"""Objective metrics: known cases for SI-SDR and the DAC spectral distances, and the hidden-reference sanity check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from codec.baselines import low_anchor
from codec.errors import CodecError, InvalidAudioError
from codec.evaluation import (
    ALL_METRICS,
    HIGHER_IS_BETTER,
    MetricNotApplicableError,
    MetricValue,
    compute_metrics,
    mel_distance,
    si_sdr_db,
    stft_distance,
    stoi,
)
from codec.evaluation.spectral import MEL_N_MELS, MEL_WINDOW_LENGTHS, mel_filterbank, stft_magnitude

RATE = 48_000


def speech_like(sample_rate: int = RATE, duration_s: float = 2.0, seed: int = 0) -> np.ndarray:
    """A voiced, formant-shaped harmonic signal with syllable-rate pauses and noise bursts, float32 ``[1, T]``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    f0_hz = 120.0 + 20.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0_hz) / sample_rate
    voiced = np.zeros_like(t)
    for k in range(1, 60):
        harmonic_hz = k * f0_hz
        formants = sum(np.exp(-0.5 * ((harmonic_hz - f) / b) ** 2) for f, b in ((500, 120), (1500, 200), (2500, 300)))
        voiced += np.where(harmonic_hz < sample_rate / 2, (formants + 0.02) * np.sin(k * phase), 0.0) / k**0.3
    voiced += 0.05 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 5 * t) > 0.8)  # fricative-like bursts
    ramp = np.hanning(int(0.02 * sample_rate))
    envelope = np.convolve((np.sin(2 * np.pi * 2.0 * t) > -0.3).astype(float), ramp / ramp.sum(), "same")
    x = voiced * envelope
    return (0.3 * x / np.abs(x).max())[np.newaxis].astype(np.float32)


def broadband(num_channels: int = 1, duration_s: float = 1.0, seed: int = 0) -> np.ndarray:
    """Pink-ish noise plus a few tones: energy in every band and no silence, float32 ``[C, T]`` at 48 kHz."""
    rng = np.random.default_rng(seed)
    num_samples = int(duration_s * RATE)
    spectrum = np.fft.rfft(rng.standard_normal((num_channels, num_samples)), axis=1)
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.shape[1]), 1))
    x = np.fft.irfft(spectrum, n=num_samples, axis=1)
    t = np.arange(num_samples) / RATE
    x += 0.5 * x.std() * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 3100 * t))
    return (0.2 * x / np.abs(x).max()).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(x.shape)
    noise *= np.sqrt(np.sum(x.astype(np.float64) ** 2) / np.sum(noise**2) / 10 ** (snr_db / 10))
    return (x + noise).astype(np.float32)


# --- SI-SDR ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_si_sdr_of_additive_noise_is_the_snr(snr_db: float) -> None:
    x = broadband()
    assert si_sdr_db(x, add_noise(x, snr_db)) == pytest.approx(snr_db, abs=0.5)


def test_si_sdr_ignores_gain_polarity_and_dc_of_the_degraded() -> None:
    x = broadband()
    y = add_noise(x, 15.0)
    base = si_sdr_db(x, y)
    assert si_sdr_db(x, 0.5 * y) == pytest.approx(base, abs=1e-6)
    assert si_sdr_db(x, -y) == pytest.approx(base, abs=1e-6)
    assert si_sdr_db(x, y + 0.1) == pytest.approx(base, abs=1e-4)


def test_si_sdr_limits_and_silence() -> None:
    x = broadband()
    assert si_sdr_db(x, x) == 100.0
    assert si_sdr_db(x, 0.25 * x) == 100.0
    assert si_sdr_db(x, np.zeros_like(x)) == -100.0
    with pytest.raises(MetricNotApplicableError, match="silent"):
        si_sdr_db(np.zeros_like(x), x)
    assert issubclass(MetricNotApplicableError, CodecError)


def test_si_sdr_averages_channels_in_db_and_skips_silent_reference_channels() -> None:
    x = broadband(num_channels=2)
    y = np.concatenate([add_noise(x[:1], 10.0), add_noise(x[1:], 20.0, seed=2)])
    assert si_sdr_db(x, y) == pytest.approx(15.0, abs=0.5)
    x[1] = 0.0
    assert si_sdr_db(x, y) == pytest.approx(10.0, abs=0.5)


# --- spectral distances ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window_length", [32, 512, 2048])
def test_stft_magnitude_matches_torch_stft(window_length: int) -> None:
    x = broadband(num_channels=2, duration_s=0.25)
    expected = torch.stft(
        torch.from_numpy(x).double(),
        n_fft=window_length,
        hop_length=window_length // 4,
        window=torch.hann_window(window_length, dtype=torch.float64),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    ).abs()
    np.testing.assert_allclose(stft_magnitude(x, window_length), expected.transpose(1, 2).numpy(), atol=1e-9)


def test_mel_filterbank_is_slaney_area_normalised() -> None:
    bank = mel_filterbank(RATE, 2048, 320)
    bin_hz = RATE / 2048
    assert bank.shape == (320, 1025)
    # Each triangle has unit area in Hz; only bands many bins wide are sampled finely enough to check it.
    np.testing.assert_allclose(bank[200:].sum(axis=1) * bin_hz, 1.0, rtol=0.02)
    # Slaney scale: linear below 1 kHz (at 200/3 Hz per mel), so the first band's right edge is at 2 mel steps.
    edges_hz = np.flatnonzero(bank[0] > 0) * bin_hz
    assert edges_hz.max() < 2 * (200 / 3) * (15 + np.log(24) / (np.log(6.4) / 27)) / 321


def test_identical_signals_have_zero_distance() -> None:
    x = broadband(num_channels=2)
    assert mel_distance(x, x, RATE) == 0.0
    assert stft_distance(x, x, RATE) == 0.0


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_mel_distance_of_a_gain_change_is_log10_gain_per_scale(gain: float) -> None:
    # Mel magnitudes scale with the gain, so every non-empty band differs by |log10 gain| and empty bands by 0. Loud
    # white noise keeps every cell above the 1e-5 floor (Slaney weights are ~2 / bandwidth_hz, so mel magnitudes of
    # short windows are small), where the identity would not hold.
    x = (3.0 * np.random.default_rng(0).standard_normal((1, RATE))).astype(np.float32)
    scales = zip(MEL_WINDOW_LENGTHS, MEL_N_MELS, strict=True)
    non_empty = sum(float(mel_filterbank(RATE, w, n).any(axis=1).mean()) for w, n in scales)
    assert mel_distance(x, gain * x, RATE) == pytest.approx(abs(math.log10(gain)) * non_empty, rel=1e-6)


def test_distances_grow_with_noise_and_are_symmetric_in_their_log_part() -> None:
    x = broadband()
    mel = [mel_distance(x, add_noise(x, snr), RATE) for snr in (40.0, 25.0, 10.0, 0.0)]
    stft = [stft_distance(x, add_noise(x, snr), RATE) for snr in (40.0, 25.0, 10.0, 0.0)]
    sisdr = [si_sdr_db(x, add_noise(x, snr)) for snr in (40.0, 25.0, 10.0, 0.0)]
    assert mel == sorted(mel) and stft == sorted(stft) and sisdr == sorted(sisdr, reverse=True)
    y = add_noise(x, 20.0)
    assert mel_distance(x, y, RATE) == pytest.approx(mel_distance(y, x, RATE))


def test_low_anchor_is_farther_than_slight_noise() -> None:
    x = broadband()
    slight = add_noise(x, 40.0)
    anchored = low_anchor(x, RATE)
    assert mel_distance(x, anchored, RATE) > 2 * mel_distance(x, slight, RATE)
    assert stft_distance(x, anchored, RATE) > stft_distance(x, slight, RATE)


# --- validation and "does not apply" --------------------------------------------------------------------------------


def test_pairs_are_validated() -> None:
    x = broadband()
    with pytest.raises(InvalidAudioError, match="same"):
        mel_distance(x, x[:, :-1], RATE)
    with pytest.raises(InvalidAudioError, match="same"):
        si_sdr_db(np.concatenate([x, x]), x)
    bad = x.copy()
    bad[0, 10] = np.nan
    with pytest.raises(InvalidAudioError, match="NaN"):
        stft_distance(x, bad, RATE)
    with pytest.raises(InvalidAudioError, match="sample rate"):
        compute_metrics(x, x, 0, metrics=["si_sdr"])
    with pytest.raises(InvalidAudioError, match="too short"):
        mel_distance(x[:, :1000], x[:, :1000], RATE)
    with pytest.raises(InvalidAudioError, match="unknown metric"):
        compute_metrics(x, x, RATE, metrics=["snr"])
    with pytest.raises(InvalidAudioError, match="content"):
        compute_metrics(x, x, RATE, content="noise", metrics=["si_sdr"])  # type: ignore[arg-type]


def test_speech_metrics_say_when_they_do_not_apply() -> None:
    x = speech_like(16_000, duration_s=1.5)
    music = compute_metrics(x, x, 16_000, content="music", metrics=["pesq", "stoi", "si_sdr"])
    assert music["pesq"] == MetricValue(None, "PESQ applies to speech only")
    assert music["stoi"] == MetricValue(None, "STOI applies to speech only")
    assert music["si_sdr"] == MetricValue(100.0, None)
    unknown = compute_metrics(x, x, 16_000, metrics=["pesq", "stoi"])
    assert unknown["pesq"].value is not None and unknown["pesq"].note == "PESQ is valid for speech only"
    assert compute_metrics(x, x, 16_000, content="speech", metrics=["stoi"])["stoi"].note is None
    silent = compute_metrics(np.zeros_like(x), x, 16_000, content="speech", metrics=["pesq", "stoi", "si_sdr"])
    assert all(v.value is None and "silent" in v.note for v in silent.values())
    with pytest.raises(MetricNotApplicableError, match=r"0\.4 s"):
        stoi(x[:, :4000], x[:, :4000], 16_000)


# --- hidden reference -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored() -> dict[str, dict[str, MetricValue]]:
    """All metrics for a speech-like clip against itself, a noisy copy and the BS.1534 low anchor (ViSQOL ~1 s each)."""
    x = speech_like()
    conditions = {"reference": x, "noisy": add_noise(x, 20.0), "low_anchor": low_anchor(x, RATE)}
    return {name: compute_metrics(x, y, RATE, content="speech") for name, y in conditions.items()}


def test_hidden_reference_scores_best_on_every_metric(scored: dict[str, dict[str, MetricValue]]) -> None:
    assert set(HIGHER_IS_BETTER) == set(ALL_METRICS) == set(scored["reference"])
    for metric, higher in HIGHER_IS_BETTER.items():
        values = {name: result[metric].value for name, result in scored.items()}
        assert all(v is not None and math.isfinite(v) for v in values.values()), (metric, values)
        best = max(values, key=values.get) if higher else min(values, key=values.get)
        assert best == "reference", (metric, values)
        others = [v for name, v in values.items() if name != "reference"]
        assert all(v != values["reference"] for v in others), (metric, values)


def test_visqol_tops_out_for_the_reference_and_charges_for_the_lost_band(
    scored: dict[str, dict[str, MetricValue]],
) -> None:
    assert scored["reference"]["visqol"].value > 4.5
    assert scored["low_anchor"]["visqol"].value < scored["reference"]["visqol"].value - 0.75
