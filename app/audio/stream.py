"""The output stream the engine plays through: what it needs of one, the real PortAudio one, and its error.

Tests replace :func:`sounddevice_stream` with a fake :class:`StreamLike` (``PlaybackEngine(stream_factory=...)``) and
drive the callback themselves, so no device is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from app.audio.devices import import_sounddevice


class AudioEngineError(Exception):
    """Playback cannot happen (no device, or the device refused the stream); the message is for the user."""


class StreamLike(Protocol):
    """The part of ``sounddevice.OutputStream`` the engine uses."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


#: Builds a stream: ``factory(samplerate=, channels=, blocksize=, device=, callback=)``.
StreamFactory = Callable[..., StreamLike]


def sounddevice_stream(**kwargs: Any) -> StreamLike:
    """A real PortAudio output stream (float32) with ``kwargs``; PortAudio failures become :class:`AudioEngineError`."""
    sd = import_sounddevice()
    try:
        return sd.OutputStream(dtype="float32", **kwargs)
    except sd.PortAudioError as exc:
        raise AudioEngineError(f"The audio device refused the stream: {exc}") from exc
