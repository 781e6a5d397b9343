"""The playback engine around the mixer: stream lifecycle, callback, channel mapping, no-device behaviour."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from app_testing import FAKE_DEVICE, FakeStream

from app.audio.devices import DeviceScan, OutputDevice, scan_output_devices
from app.audio.engine import PlaybackEngine
from app.audio.stream import AudioEngineError


def sources(length: int = 24_000, channels: int = 1) -> list[np.ndarray]:
    a = np.full((length, channels), 0.5, np.float32)
    return [a, -a]


def test_play_opens_one_stream_and_the_callback_plays(fake_engine: PlaybackEngine) -> None:
    fake_engine.load(sources(), 24_000)
    assert fake_engine._stream is None  # opened lazily
    fake_engine.play()
    stream = fake_engine._stream
    assert isinstance(stream, FakeStream) and stream.active
    assert (stream.samplerate, stream.channels, stream.device) == (24_000, 2, FAKE_DEVICE.index)
    out = stream.pump(4)
    assert not np.isnan(out).any()
    assert fake_engine.is_playing and fake_engine.position_samples == 4 * stream.blocksize
    fake_engine.select_source(1)
    stream.pump(2)
    assert fake_engine.active_source == 1 and fake_engine.requested_source == 1
    fake_engine.play()  # playing again keeps the same stream
    assert fake_engine._stream is stream


def test_poll_stops_an_idle_stream_and_play_restarts_it(fake_engine: PlaybackEngine) -> None:
    fake_engine.idle_stop_s = 0.0
    fake_engine.load(sources(), 24_000)
    fake_engine.play()
    stream = fake_engine._stream
    assert stream is not None
    stream.pump(2)
    fake_engine.stop()
    stream.pump(2)
    time.sleep(0.01)
    status = fake_engine.poll()
    assert not status.playing and not stream.active
    fake_engine.seek(1000)  # applied at once: no callback can run on a stopped stream
    assert fake_engine.position_samples == 1000
    fake_engine.play()
    assert stream.active


def test_load_replaces_the_item_and_closes_the_stream(fake_engine: PlaybackEngine) -> None:
    fake_engine.load(sources(), 24_000)
    fake_engine.play()
    first = fake_engine._stream
    fake_engine.load(sources(48_000, channels=2), 48_000)
    assert first is not None and first.closed
    fake_engine.play()
    assert fake_engine._stream is not first and fake_engine._stream.channels == 2


def test_update_sources_keeps_playing(fake_engine: PlaybackEngine) -> None:
    a, b = sources()
    fake_engine.load([a], 24_000)
    fake_engine.play()
    stream = fake_engine._stream
    stream.pump(2)
    fake_engine.update_sources([a, b])
    out = stream.pump(1)
    assert (out == 0.5).all() and fake_engine.num_sources == 2
    with pytest.raises(ValueError):
        fake_engine.update_sources([a[:-1]])


def test_too_many_channels_for_the_device() -> None:
    mono_device = OutputDevice(0, "mono", "Test", 1, 48_000.0)
    engine = PlaybackEngine(mono_device, stream_factory=FakeStream)
    with pytest.raises(AudioEngineError, match="1 output channels"):
        engine.load(sources(channels=2), 24_000)
    engine.load(sources(channels=1), 24_000)  # mono plays on a mono device
    engine.play()
    assert engine._stream.channels == 1


def test_engine_without_device_reports_why_and_refuses_to_play() -> None:
    engine = PlaybackEngine(None, unavailable_reason="No audio output device was found.")
    assert not engine.available and "No audio output" in (engine.unavailable_reason or "")
    engine.load(sources(), 24_000)  # loading (and everything visual) still works
    engine.seek(100)
    assert engine.position_samples == 100
    with pytest.raises(AudioEngineError, match="No audio output"):
        engine.play()


def test_callback_without_item_writes_silence(fake_engine: PlaybackEngine) -> None:
    out = np.full((64, 2), np.nan, np.float32)
    fake_engine._callback(out, 64, None, 0)
    assert (out == 0).all()


def test_scan_on_this_machine_never_raises() -> None:
    scan = scan_output_devices()
    assert isinstance(scan, DeviceScan)
    assert scan.devices or scan.problem
    assert (scan.default is None) == (not scan.devices)


class ThreadedFakeStream(FakeStream):
    """Calls the callback from its own thread while active, like PortAudio does."""

    def start(self) -> None:
        super().start()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self.active:
            self.pump(1)
            time.sleep(0.0005)

    def stop(self) -> None:
        super().stop()
        if getattr(self, "_thread", None) is not None:
            self._thread.join()


@pytest.mark.parametrize("action", ["load", "close"])
def test_loading_or_closing_while_playing_fades_out_first(action: str) -> None:
    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=ThreadedFakeStream, blocksize=256)
    engine.load(sources(), 24_000)
    engine.play()
    stream = engine._stream
    assert stream is not None
    deadline = time.monotonic() + 2
    while engine.position_samples < 2048 and time.monotonic() < deadline:
        time.sleep(0.001)
    if action == "load":
        engine.load(sources(), 24_000)
    else:
        engine.close()
    played = np.concatenate(stream.written)[:, 0]
    assert played[-1] == 0 and (played[:1000] > 0).any()
    assert np.abs(np.diff(played)).max() < 0.02  # a cut would jump by 0.5
