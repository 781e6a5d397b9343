"""The playback engine: one ``sounddevice.OutputStream`` playing the sources of the current item.

The GUI thread calls :meth:`PlaybackEngine.load` with every source of an item already aligned (same rate, same
[T, C] shape), then ``play``/``stop``/``select_source``/``seek``, and polls :meth:`PlaybackEngine.poll` from a
~30 Hz timer. The PortAudio callback only calls :meth:`SourceMixer.render` (see ``mixer.py`` for the lock-free
handshake): it allocates no buffers, takes no lock, never logs and never touches Qt.

The stream is opened lazily on the first ``play`` and stopped by ``poll`` after ``idle_stop_s`` of silence, so an
idle app does not hold the device. Both happen on the GUI thread, so they cannot race each other.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.audio.devices import OutputDevice
from app.audio.mixer import SourceMixer
from app.audio.stream import AudioEngineError, StreamFactory, StreamLike, sounddevice_stream

#: How long ``load``/``close`` wait for the callback to finish a stop fade before cutting the stream.
STOP_WAIT_S = 0.1


@dataclass(frozen=True)
class EngineStatus:
    """What the GUI timer reads each tick."""

    position_samples: int
    active_source: int
    playing: bool


class PlaybackEngine:
    """Sample-synchronous playback of one item's sources through one output stream.

    Parameters
    ----------
    device : OutputDevice or None
        Where to play; None makes the engine unavailable (``unavailable_reason`` says why).
    unavailable_reason : str, optional
        Shown when ``device`` is None.
    blocksize : int
        Frames per callback (256-1024 avoids crackles on most systems).
    fade_ms : float
        Raised-cosine fade length for start, stop, switch, seek and loop edges.
    stream_factory : StreamFactory, optional
        Replaces ``sounddevice.OutputStream`` (tests drive the callback through a fake stream).
    idle_stop_s : float
        Seconds of silence after which ``poll`` stops the stream.
    """

    def __init__(
        self,
        device: OutputDevice | None,
        *,
        unavailable_reason: str | None = None,
        blocksize: int = 512,
        fade_ms: float = 5.0,
        stream_factory: StreamFactory | None = None,
        idle_stop_s: float = 2.0,
    ) -> None:
        self.device = device
        self.unavailable_reason = None if device else unavailable_reason or "No audio output device was found."
        self.blocksize = blocksize
        self.fade_ms = fade_ms
        self.idle_stop_s = idle_stop_s
        self._stream_factory = stream_factory or sounddevice_stream
        self._stream: StreamLike | None = None
        self._mixer: SourceMixer | None = None
        self._last_request_s = time.monotonic()
        self.underflows = 0

    # ------------------------------------------------------------------ item
    @property
    def available(self) -> bool:
        """Whether there is a device to play on."""
        return self.device is not None

    @property
    def loaded(self) -> bool:
        """Whether an item is loaded."""
        return self._mixer is not None

    @property
    def sample_rate(self) -> int | None:
        """The loaded item's rate in Hz."""
        return self._mixer.sample_rate if self._mixer else None

    @property
    def num_samples(self) -> int:
        """The loaded item's length T (0 when none)."""
        return self._mixer.num_samples if self._mixer else 0

    @property
    def num_sources(self) -> int:
        """How many sources the loaded item has."""
        return self._mixer.num_sources if self._mixer else 0

    @property
    def fade_samples(self) -> int:
        """The fade length in samples at the item's rate."""
        return self._mixer.fade_samples if self._mixer else 0

    def load(self, sources: Sequence[np.ndarray], sample_rate: int) -> None:
        """Replace the item: stop at once (closing the stream) and preload ``sources`` (float32 [T, C] each)."""
        channels = np.shape(sources[0])[1] if sources and np.ndim(sources[0]) == 2 else 0
        channels_out = self._channels_out(channels)
        mixer = SourceMixer(sources, sample_rate, channels_out=channels_out, fade_ms=self.fade_ms)
        self._close_stream()
        self._mixer = mixer

    def update_sources(self, sources: Sequence[np.ndarray]) -> None:
        """Swap the item's sources for ones of the same shape without stopping (e.g. add a reconstruction)."""
        self._require_mixer().replace_sources(sources)
        self._touch()

    def configure(self, device: OutputDevice | None, blocksize: int, unavailable_reason: str | None = None) -> None:
        """Play on ``device`` with ``blocksize`` frames per callback from the next ``play`` (stops playback now)."""
        if blocksize <= 0:
            raise ValueError(f"blocksize must be positive, got {blocksize}")
        if self._mixer is not None and device is not None:
            channels = self._mixer.channels
            if channels > device.max_output_channels:
                raise AudioEngineError(f"{device.name} has {device.max_output_channels} output channels")
        self._close_stream()
        self.device = device
        self.unavailable_reason = None if device else unavailable_reason or "No audio output device was found."
        self.blocksize = blocksize
        mixer = self._mixer
        if mixer is not None and self._channels_out(mixer.channels) != mixer.channels_out:
            self._mixer = SourceMixer(mixer.requested_sources, mixer.sample_rate, self._channels_out(mixer.channels),
                                      self.fade_ms)

    def unload(self) -> None:
        """Stop and forget the item."""
        self._close_stream()
        self._mixer = None

    def _channels_out(self, channels: int) -> int:
        if self.device is None:
            return 2 if channels == 1 else channels
        available = self.device.max_output_channels
        if channels == 1:
            return min(2, available)
        if channels > available:
            raise AudioEngineError(f"{self.device.name} has {available} output channels; the item has {channels}")
        return channels

    # ------------------------------------------------------------- transport
    def play(self) -> None:
        """Start playing (fading in) from the current position."""
        mixer = self._require_mixer()
        if self.device is None:
            raise AudioEngineError(self.unavailable_reason or "No audio output device.")
        mixer.play()
        self._touch()
        self._ensure_running()

    def stop(self) -> None:
        """Fade out and stop."""
        if self._mixer is not None:
            self._mixer.stop()
            self._after_request()

    def toggle(self) -> None:
        """Play when stopped, stop when playing."""
        if self.is_playing:
            self.stop()
        else:
            self.play()

    def select_source(self, index: int) -> None:
        """Switch to source ``index`` at the running sample index (5 ms out, 5 ms in)."""
        self._require_mixer().select_source(index)
        self._after_request()

    def seek(self, position_samples: int) -> None:
        """Move the play head."""
        self._require_mixer().seek(position_samples)
        self._after_request()

    def set_loop(self, start_samples: int, end_samples: int) -> None:
        """Loop ``[start, end)`` with faded edges."""
        self._require_mixer().set_loop(start_samples, end_samples)
        self._after_request()

    def clear_loop(self) -> None:
        """Stop looping."""
        self._require_mixer().clear_loop()
        self._after_request()

    @property
    def is_playing(self) -> bool:
        """Whether sound is coming out (as of the last callback)."""
        return bool(self._mixer and self._mixer.playing)

    @property
    def position_samples(self) -> int:
        """The shared sample index (as of the last callback)."""
        return self._mixer.position_samples if self._mixer else 0

    @property
    def active_source(self) -> int:
        """The source being heard (as of the last callback)."""
        return self._mixer.active_source if self._mixer else 0

    @property
    def requested_source(self) -> int:
        """The source asked for last."""
        return self._mixer.requested_source if self._mixer else 0

    def poll(self) -> EngineStatus:
        """Read the play state for display; stops the stream after ``idle_stop_s`` of silence."""
        stream = self._stream
        if stream is not None and stream.active and not self.is_playing:
            if time.monotonic() - self._last_request_s > self.idle_stop_s:
                stream.stop()
        return EngineStatus(self.position_samples, self.active_source, self.is_playing)

    def close(self) -> None:
        """Stop and release the device."""
        self.unload()

    # ---------------------------------------------------------------- stream
    def _require_mixer(self) -> SourceMixer:
        if self._mixer is None:
            raise AudioEngineError("No audio is loaded.")
        return self._mixer

    def _touch(self) -> None:
        self._last_request_s = time.monotonic()

    def _after_request(self) -> None:
        self._touch()
        stream = self._stream
        if (stream is None or not stream.active) and self._mixer is not None:
            self._mixer.sync()  # no callback can run now, so apply the request here

    def _ensure_running(self) -> None:
        mixer = self._require_mixer()
        if self._stream is None:
            self._stream = self._stream_factory(
                samplerate=mixer.sample_rate,
                channels=mixer.channels_out,
                blocksize=self.blocksize,
                device=self.device.index if self.device else None,
                callback=self._callback,
            )
        if not self._stream.active:
            self._stream.start()

    def _close_stream(self) -> None:
        """Fade out if playing (waiting at most ``STOP_WAIT_S`` for the callback), then stop and close the stream."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        mixer = self._mixer
        if mixer is not None and mixer.playing and stream.active:
            mixer.stop()
            deadline = time.monotonic() + STOP_WAIT_S
            while mixer.playing and time.monotonic() < deadline:
                time.sleep(0.002)
        stream.stop()  # plays the buffers already queued (the fade-out), then returns
        stream.close()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio callback (audio thread): render the next block; no allocation, locks, logging or Qt."""
        if status:
            self.underflows += 1
        mixer = self._mixer
        if mixer is None:
            outdata.fill(0.0)
        else:
            mixer.render(outdata)
