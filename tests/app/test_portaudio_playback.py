"""The real PortAudio path: the engine plays into an ALSA file sink, and the written samples are checked."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.audio.mixer import raised_cosine_ramps

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(
        ctypes.util.find_library("portaudio") is None,
        reason="libportaudio2 is not installed (apt install libportaudio2)",
    ),
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RATE, LENGTH, FREQS_HZ = 48_000, 72_000, (440.0, 660.0)
ASOUNDRC = """\
pcm.!default {{ type plug  slave {{ pcm "capture_file" format S16_LE rate {rate} channels 2 }} }}
pcm.capture_file {{ type file  slave.pcm "null"  file "{path}"  format "wav" }}
"""


def play_through_alsa_file(tmp_path: Path) -> tuple[np.ndarray, dict]:
    wav = tmp_path / "played.wav"
    (tmp_path / "alsa").mkdir()
    (tmp_path / "alsa" / "asoundrc").write_text(ASOUNDRC.format(rate=RATE, path=wav))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))
    done = subprocess.run(
        [sys.executable, str(HERE / "portaudio_player.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    played, rate = sf.read(wav, dtype="float32", always_2d=True)
    assert rate == RATE
    return played, json.loads(done.stdout.strip().splitlines()[-1])


def expected_output(switch_at: int, fade: int) -> np.ndarray:
    t = np.arange(LENGTH) / RATE
    a, b = (0.5 * np.sin(2 * np.pi * f * t) for f in FREQS_HZ)
    fade_in, fade_out = (r[:, 0].astype(np.float64) for r in raised_cosine_ramps(fade))
    out = np.concatenate([a[:switch_at], b[switch_at:]])
    out[:fade] *= fade_in  # start
    out[switch_at : switch_at + fade] = a[switch_at : switch_at + fade] * fade_out  # A out...
    out[switch_at + fade : switch_at + 2 * fade] *= fade_in  # ...then B in, at the running index
    out[-fade:] *= fade_out  # end of the item
    return out


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)])


def test_engine_plays_through_portaudio_and_switches_at_the_sample(tmp_path: Path) -> None:
    played, info = play_through_alsa_file(tmp_path)
    switch_at, fade = info["switch_at"], info["fade_samples"]
    assert switch_at is not None and switch_at >= RATE and switch_at % 512 == 0
    expected = expected_output(switch_at, fade)
    # Find where the item starts in the file (PortAudio may write some silence first).
    lags = [np.abs(played[lag : lag + 4800, 0] - expected[:4800]).max() for lag in range(0, 4096)]
    offset = int(np.argmin(lags))
    assert lags[offset] < 2e-3
    assert len(played) >= offset + LENGTH
    got = played[offset : offset + LENGTH]
    np.testing.assert_allclose(got[:, 0], expected, atol=2e-3)  # every sample, fades included
    np.testing.assert_array_equal(got[:, 0], got[:, 1])  # mono on both channels
    assert peak_hz(got[:switch_at, 0]) == pytest.approx(440.0, abs=2.0)
    assert peak_hz(got[switch_at + 2 * fade :, 0]) == pytest.approx(660.0, abs=2.0)
    assert np.abs(played[offset + LENGTH :]).max(initial=0.0) < 1e-4  # silence after the end
