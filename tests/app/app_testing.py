"""Test doubles and signal helpers shared by the app tests (imported by ``conftest.py`` and test modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from app.audio.devices import OutputDevice

FAKE_DEVICE = OutputDevice(
    index=0, name="Fake output", hostapi="Test", max_output_channels=2, default_sample_rate=48000
)


class FakeStream:
    """Stands in for ``sounddevice.OutputStream``: ``pump()`` calls the callback like PortAudio would."""

    def __init__(self, *, samplerate: int, channels: int, blocksize: int, device: Any, callback: Callable) -> None:
        self.samplerate, self.channels, self.blocksize, self.device = samplerate, channels, blocksize, device
        self.callback = callback
        self.active = False
        self.closed = False
        self.written: list[np.ndarray] = []

    def start(self) -> None:
        assert not self.closed
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False
        self.closed = True

    def pump(self, blocks: int = 1) -> np.ndarray:
        """Run ``blocks`` callbacks and return what they wrote, float32 [frames, channels]."""
        out = []
        for _ in range(blocks):
            block = np.full((self.blocksize, self.channels), np.nan, dtype=np.float32)
            self.callback(block, self.blocksize, None, 0)
            out.append(block)
        self.written.extend(out)
        return np.concatenate(out)


def write_tone(
    path: Path,
    freq_hz: float = 440.0,
    duration_s: float = 0.5,
    sample_rate: int = 24_000,
    channels: int = 1,
    amplitude: float = 0.5,
) -> Path:
    """Write a sine tone as 16-bit WAV (or FLAC, by suffix) and return the path."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    tone = (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    sf.write(path, np.repeat(tone[:, None], channels, axis=1), sample_rate)
    return path
