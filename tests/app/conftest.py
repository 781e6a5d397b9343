"""Fixtures for the app tests: synthetic clips, a fake output stream, a random-weight checkpoint, app services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_testing import FAKE_DEVICE, FakeStream, write_tone

from app.audio.engine import PlaybackEngine


@pytest.fixture
def fake_engine() -> Iterator[PlaybackEngine]:
    """An engine on a fake device; its stream is a :class:`FakeStream` (``engine._stream``)."""
    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
    yield engine
    engine.close()


@pytest.fixture
def tone_file(tmp_path: Path) -> Path:
    """0.5 s of 440 Hz, mono 24 kHz WAV."""
    return write_tone(tmp_path / "tone.wav")


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight 24 kHz checkpoint in our format (tests only; never offered as an installed model)."""
    from codec.testing import random_codec_checkpoint

    return random_codec_checkpoint(tmp_path_factory.mktemp("models") / "random_24khz.safetensors")
