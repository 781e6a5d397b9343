"""BS.1770 loudness, true peak, and the one shared gain per item."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codec.errors import InvalidAudioError
from codec.evaluation import integrated_loudness_lufs, match_loudness, true_peak_dbtp

SAMPLE_RATE = 48000


def _sine(freq_hz: float, level_dbfs: float, duration_s: float = 2.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
    return (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + phase)).astype(np.float32)[np.newaxis, :]


def test_997hz_sine_at_minus_20_dbfs_reads_about_minus_23_lufs() -> None:
    # BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS; pyloudnorm weights mono as one channel.
    mono = _sine(997.0, -20.0)
    assert integrated_loudness_lufs(mono, SAMPLE_RATE) == pytest.approx(-23.0, abs=0.1)
    # The same sine in both channels of a stereo file is 3 dB louder.
    stereo = np.repeat(mono, 2, axis=0)
    assert integrated_loudness_lufs(stereo, SAMPLE_RATE) == pytest.approx(-20.0, abs=0.1)


def test_silence_and_short_clips_are_minus_inf() -> None:
    assert integrated_loudness_lufs(np.zeros((2, SAMPLE_RATE), dtype=np.float32), SAMPLE_RATE) == -math.inf
    assert integrated_loudness_lufs(_sine(997.0, -20.0, duration_s=0.3), SAMPLE_RATE) == -math.inf
    assert true_peak_dbtp(np.zeros((1, 100), dtype=np.float32), SAMPLE_RATE) == -math.inf


def test_true_peak_sees_inter_sample_peaks() -> None:
    # fs/4 at 45 degrees: every sample is at ±0.707 (-3.01 dBFS), the waveform between them reaches 1.0.
    tone = _sine(SAMPLE_RATE / 4, 0.0, duration_s=0.5, phase=math.pi / 4)
    sample_peak_db = 20 * math.log10(float(np.abs(tone).max()))
    assert sample_peak_db == pytest.approx(-3.01, abs=0.01)
    true_peak = true_peak_dbtp(tone, SAMPLE_RATE)
    assert true_peak > sample_peak_db + 2.5
    assert true_peak == pytest.approx(0.0, abs=0.25)  # the abrupt start adds a little Gibbs overshoot
    quiet = _sine(997.0, -20.0)
    assert true_peak_dbtp(quiet, SAMPLE_RATE) == pytest.approx(-20.0, abs=0.05)


def test_one_gain_is_shared_by_reference_and_conditions() -> None:
    reference = _sine(997.0, -20.0)
    conditions = {"quieter": reference * 10 ** (-3 / 20), "same": reference.copy()}
    plan = match_loudness(reference, conditions, SAMPLE_RATE, target_lufs=-30.0)
    assert plan.gain_db == pytest.approx(-7.0, abs=0.1)
    assert plan.reference.loudness_lufs == pytest.approx(-30.0, abs=0.01)
    assert plan.conditions["quieter"].deviation_lu == pytest.approx(-3.0, abs=0.01)  # not re-normalised
    assert plan.conditions["quieter"].loudness_lufs == pytest.approx(-33.0, abs=0.01)
    assert plan.conditions["same"].deviation_lu == pytest.approx(0.0, abs=1e-6)
    gain = 10 ** (plan.gain_db / 20)
    np.testing.assert_allclose(plan.conditions["quieter"].audio, conditions["quieter"] * gain, rtol=1e-6)
    assert not plan.any_clipping


def test_no_target_keeps_the_level_and_clipping_is_flagged() -> None:
    reference = _sine(997.0, -20.0)
    loud = _sine(997.0, 2.0)  # codec output that overshoots full scale
    plan = match_loudness(reference, {"loud": loud}, SAMPLE_RATE)
    assert plan.gain_db == 0.0 and plan.target_lufs is None
    np.testing.assert_array_equal(plan.reference.audio, reference)
    assert plan.conditions["loud"].clips and plan.any_clipping
    assert plan.conditions["loud"].true_peak_dbtp == pytest.approx(2.0, abs=0.05)
    assert plan.conditions["loud"].deviation_lu == pytest.approx(22.0, abs=0.05)
    # Raising the target makes the reference itself clip: flagged, not silently limited.
    assert match_loudness(reference, {}, SAMPLE_RATE, target_lufs=0.0).reference.clips


def test_silence_is_handled() -> None:
    reference = _sine(997.0, -20.0)
    silence = np.zeros_like(reference)
    plan = match_loudness(reference, {"silent": silence}, SAMPLE_RATE, target_lufs=-23.0)
    assert plan.conditions["silent"].loudness_lufs == -math.inf
    assert math.isnan(plan.conditions["silent"].deviation_lu)
    assert not plan.conditions["silent"].clips
    assert match_loudness(silence, {"x": reference}, SAMPLE_RATE).gain_db == 0.0
    with pytest.raises(InvalidAudioError):
        match_loudness(silence, {}, SAMPLE_RATE, target_lufs=-23.0)


def test_bad_input_raises_invalid_audio_error() -> None:
    with pytest.raises(InvalidAudioError):
        integrated_loudness_lufs(np.zeros((6, SAMPLE_RATE), dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(InvalidAudioError):
        match_loudness(_sine(997.0, -20.0), {}, SAMPLE_RATE, target_lufs=float("nan"))
    with pytest.raises(InvalidAudioError):
        true_peak_dbtp(np.array([np.nan, 0.0]), SAMPLE_RATE)
