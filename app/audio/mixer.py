"""Sample-synchronous source switching with raised-cosine fades, written for the audio callback.

The :class:`SourceMixer` holds every source of one item (the original, the reconstruction, ...) as float32 [T, C]
arrays of one length and rate, and one shared sample index. :meth:`SourceMixer.render` fills an output block with the
active source only. A switch fades the old source out over ``fade_ms`` (raised cosine) and the new one in over the
next ``fade_ms``, at the running index: never a crossfade, so two sources are never summed (BS.1534-3 §5.3).
Start, stop and seek fade the same way, and the edges of a loop (and the end of the item) carry positional fades.

Threading handshake (no locks)
------------------------------
The GUI thread only *writes requests*: ``_req_sources``, ``_req_source``, ``_req_transport`` (serial, want_playing),
``_req_seek`` (serial, sample) and ``_req_loop``. Each is one attribute store of an immutable object (an int, a
tuple, a tuple of read-only arrays), which is atomic in CPython. The audio thread reads each request once at the
start of a block and owns all other state; it *publishes* ``position_samples``, ``active_source`` and ``playing``
the same way for the GUI to poll. Serial numbers turn play/stop/seek into events, so neither side overwrites a field
the other one writes.

:meth:`render` allocates no sample buffers: it writes into the caller's block through slices of preallocated ramps
(``np.copyto``, then in-place ``np.multiply(..., out=)`` on equal shapes, since a broadcasting ufunc would buffer);
only small Python objects (ints, array views) are created and freed.

This module holds the GUI thread's half (validation, requests, preallocated ramps); the audio thread's half
(``render`` and its fade state machine) is :class:`~app.audio.block_renderer.BlockRenderer`, the base class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.audio.block_renderer import AFTER_STOP, SILENT, BlockRenderer

MAX_FADE_MS = 20.0


def raised_cosine_ramps(fade_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (fade_in, fade_out), float32 [N, 1] raised-cosine gains.

    ``fade_in[k] = 0.5 - 0.5 cos(pi k / N)`` rises from exactly 0; ``fade_out`` is its reverse and ends at exactly 0,
    so a switch goes ..., 1, fade_out..., 0, 0, ...fade_in, 1, ... with the new source starting from silence.
    """
    k = np.arange(fade_samples, dtype=np.float64)
    fade_in = (0.5 - 0.5 * np.cos(np.pi * k / max(fade_samples, 1))).astype(np.float32).reshape(-1, 1)
    return fade_in, np.ascontiguousarray(fade_in[::-1])


def _as_source(array: np.ndarray) -> np.ndarray:
    source = np.ascontiguousarray(array, dtype=np.float32)
    if source.ndim != 2 or source.shape[0] == 0:
        raise ValueError(f"a source must have shape [T, C] with T > 0, got {source.shape}")
    if source is array:
        source = source.view()  # a read-only view; the caller's array keeps its own flags
    source.flags.writeable = False
    return source


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.strides == b.strides and a.ctypes.data == b.ctypes.data


class SourceMixer(BlockRenderer):
    """Plays one of several aligned sources, switching sample-synchronously.

    Parameters
    ----------
    sources : sequence of np.ndarray
        float32 [T, C] arrays, all the same shape (index 0 is the original by convention).
    sample_rate : int
        Rate of every source in Hz.
    channels_out : int, optional
        Channels of the output block; defaults to the sources' C. Mono sources play on every output channel.
    fade_ms : float
        Length of each raised-cosine fade, 0 to 20 ms (5 ms per BS.1534-3).
    """

    def __init__(
        self, sources: Sequence[np.ndarray], sample_rate: int, channels_out: int | None = None, fade_ms: float = 5.0
    ) -> None:
        if not 0.0 <= fade_ms <= MAX_FADE_MS:
            raise ValueError(f"fade_ms must be between 0 and {MAX_FADE_MS:g}, got {fade_ms}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        arrays = self._validated(sources, None)
        self.num_samples, self.channels = arrays[0].shape
        self.channels_out = channels_out or self.channels
        if self.channels not in (1, self.channels_out):
            raise ValueError(f"{self.channels}-channel sources cannot play on {self.channels_out} output channels")
        self.sample_rate = sample_rate
        self.fade_samples = round(fade_ms * 1e-3 * sample_rate)
        # Ramps as wide as the output, so every multiply has equal shapes: a broadcasting ufunc would buffer.
        self._ramp_in, self._ramp_out = (
            np.ascontiguousarray(np.repeat(ramp, self.channels_out, axis=1))
            for ramp in raised_cosine_ramps(self.fade_samples)
        )
        # Requests: written by the GUI thread only.
        self._req_sources = arrays
        self._req_source = 0
        self._req_transport = (0, False)
        self._req_seek = (0, 0)
        self._req_loop: tuple[int, int] | None = None
        # State: owned by the audio thread.
        self._sources = arrays
        self._mode = SILENT
        self._after = AFTER_STOP
        self._ramp = 0
        self._pos = 0
        self._active = 0
        self._seek_target = 0
        self._loop: tuple[int, int] | None = None
        self._seen_transport = 0
        self._seen_seek = 0
        # Published by the audio thread.
        self.position_samples = 0
        self.active_source = 0
        self.playing = False

    # ----------------------------------------------------------------- GUI thread
    def _validated(self, sources: Sequence[np.ndarray], shape: tuple[int, int] | None) -> tuple[np.ndarray, ...]:
        arrays = tuple(_as_source(s) for s in sources)
        if not arrays:
            raise ValueError("at least one source is needed")
        expected = shape or arrays[0].shape
        for index, array in enumerate(arrays):
            if array.shape != expected:
                raise ValueError(f"source {index} has shape {array.shape}, expected {expected}")
        return arrays

    @property
    def num_sources(self) -> int:
        """How many sources the latest request holds."""
        return len(self._req_sources)

    @property
    def requested_sources(self) -> tuple[np.ndarray, ...]:
        """The sources of the latest request, float32 [T, C] each."""
        return self._req_sources

    @property
    def requested_source(self) -> int:
        """The source the GUI asked for last."""
        return self._req_source

    def replace_sources(self, sources: Sequence[np.ndarray]) -> None:
        """Swap in a new set of sources of the same shape; a changed active source is switched with fades."""
        arrays = self._validated(sources, (self.num_samples, self.channels))
        previous = self._req_sources
        # Keep the old object for an unchanged buffer, so the callback sees the active source is the same one.
        self._req_sources = tuple(
            previous[i] if i < len(previous) and _same_buffer(array, previous[i]) else array
            for i, array in enumerate(arrays)
        )
        if self._req_source >= len(self._req_sources):
            self._req_source = 0

    def select_source(self, index: int) -> None:
        """Ask for source ``index``; the switch happens within one block, at the running sample index."""
        if not 0 <= index < len(self._req_sources):
            raise ValueError(f"source index must be in 0..{len(self._req_sources) - 1}, got {index}")
        self._req_source = index

    def play(self) -> None:
        """Start (or keep) playing from the current position, fading in."""
        self._req_transport = (self._req_transport[0] + 1, True)

    def stop(self) -> None:
        """Fade out and stop; the position stays where it stopped."""
        self._req_transport = (self._req_transport[0] + 1, False)

    def seek(self, position_samples: int) -> None:
        """Move the shared index (fading out and in when playing)."""
        target = min(max(int(position_samples), 0), self.num_samples - 1)
        self._req_seek = (self._req_seek[0] + 1, target)

    def set_loop(self, start_samples: int, end_samples: int) -> None:
        """Loop ``[start, end)``; it must be at least two fades long. Its edges are faded."""
        start, end = int(start_samples), int(end_samples)
        if not 0 <= start < end <= self.num_samples:
            raise ValueError(f"loop [{start}, {end}) must lie within [0, {self.num_samples}]")
        if end - start < 2 * self.fade_samples + 1:
            raise ValueError(f"loop must be longer than {2 * self.fade_samples} samples")
        self._req_loop = (start, end)

    def clear_loop(self) -> None:
        """Play to the end of the item again."""
        self._req_loop = None

    @property
    def loop(self) -> tuple[int, int] | None:
        """The requested loop region, or None."""
        return self._req_loop

    def sync(self) -> None:
        """Apply pending requests now; call only while no audio callback can run (the stream is stopped)."""
        self._apply_requests()
        self._publish()
