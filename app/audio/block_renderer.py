"""The audio thread's half of :class:`~app.audio.mixer.SourceMixer`: apply the GUI's requests, render blocks.

:class:`BlockRenderer` holds the fade state machine that runs in the PortAudio callback: once per block it reads each
request the GUI thread wrote (see the handshake in :mod:`app.audio.mixer`), then fills the output block with the
active source, faded in and out with preallocated raised-cosine ramps. It allocates no sample buffers and takes no
lock; it publishes ``position_samples``, ``active_source`` and ``playing`` for the GUI to poll.
"""

from __future__ import annotations

import numpy as np

SILENT, FADE_IN, FULL, FADE_OUT = range(4)
# What happens when a fade-out reaches zero; a lower value wins when several are pending.
AFTER_STOP, AFTER_SEEK, AFTER_RESUME = range(3)


class BlockRenderer:
    """Renders the active source block by block; the base of :class:`~app.audio.mixer.SourceMixer`.

    The subclass's ``__init__`` (GUI thread) sets every attribute declared here before any block is rendered.
    """

    # Fixed for the mixer's life.
    num_samples: int
    fade_samples: int
    _ramp_in: np.ndarray
    _ramp_out: np.ndarray
    # Requests: written by the GUI thread only.
    _req_sources: tuple[np.ndarray, ...]
    _req_source: int
    _req_transport: tuple[int, bool]
    _req_seek: tuple[int, int]
    _req_loop: tuple[int, int] | None
    # State: owned by the audio thread.
    _sources: tuple[np.ndarray, ...]
    _mode: int
    _after: int
    _ramp: int
    _pos: int
    _active: int
    _seek_target: int
    _loop: tuple[int, int] | None
    _seen_transport: int
    _seen_seek: int
    # Published by the audio thread.
    position_samples: int
    active_source: int
    playing: bool

    def render(self, out: np.ndarray) -> bool:
        """Fill ``out`` (float32 [frames, channels_out]) with the next block; return whether still playing."""
        out.fill(0.0)
        self._apply_requests()
        frames = out.shape[0]
        done = 0
        while done < frames and self._mode != SILENT:
            done += self._render_segment(out, done, frames - done)
        self._publish()
        return self._mode != SILENT

    def _publish(self) -> None:
        self.position_samples = self._pos
        self.active_source = self._active
        self.playing = self._mode != SILENT

    def _apply_requests(self) -> None:
        loop = self._req_loop
        if loop is not self._loop:
            self._loop = loop
            if loop is not None and not loop[0] <= self._pos < loop[1]:
                self._seek_to(loop[0])
        serial, target = self._req_seek
        if serial != self._seen_seek:
            self._seen_seek = serial
            self._seek_to(target)
        serial, want_playing = self._req_transport
        if serial != self._seen_transport:
            self._seen_transport = serial
            if not want_playing:
                self._fade_out(AFTER_STOP)
            elif self._mode == SILENT:
                self._start()
            elif self._mode == FADE_OUT and self._after == AFTER_STOP:
                self._after = AFTER_RESUME
        sources = self._req_sources
        if sources is not self._sources:
            active = self._active
            if self._mode == SILENT or (active < len(sources) and sources[active] is self._sources[active]):
                self._sources = sources
            else:
                self._fade_out(AFTER_RESUME)
        if self._mode in (FADE_IN, FULL) and min(self._req_source, len(self._sources) - 1) != self._active:
            self._fade_out(AFTER_RESUME)

    def _seek_to(self, target: int) -> None:
        if self._mode == SILENT:
            self._pos = target
        else:
            self._seek_target = target
            self._fade_out(AFTER_SEEK)

    def _start(self) -> None:
        loop = self._loop
        if self._pos >= self.num_samples:
            self._pos = 0
        if loop is not None and not loop[0] <= self._pos < loop[1]:
            self._pos = loop[0]
        self._fade_in()

    def _fade_in(self) -> None:
        self._sources = self._req_sources
        self._active = min(self._req_source, len(self._sources) - 1)
        self._ramp = 0
        self._mode = FADE_IN if self.fade_samples else FULL

    def _fade_out(self, after: int) -> None:
        if self._mode == SILENT:
            return
        if self._mode == FADE_OUT:
            self._after = min(self._after, after)
            return
        # From a fade-in at k, continue down from the same gain: fade_out[N - k] == fade_in[k - 1].
        self._ramp = self.fade_samples - self._ramp if self._mode == FADE_IN else 0
        self._mode = FADE_OUT
        self._after = after
        if self._ramp >= self.fade_samples:
            self._finish_fade_out()

    def _finish_fade_out(self) -> None:
        if self._after == AFTER_STOP:
            self._mode = SILENT
            self._ramp = 0
            return
        if self._after == AFTER_SEEK:
            self._pos = self._seek_target
        self._fade_in()

    def _end_of_item(self) -> None:
        if self._mode == FADE_OUT and self._after == AFTER_SEEK:
            self._finish_fade_out()
            return
        self._mode = SILENT
        self._ramp = 0
        self._pos = self._loop[0] if self._loop is not None else 0

    def _render_segment(self, out: np.ndarray, offset: int, available: int) -> int:
        """Render up to ``available`` frames in which no gain changes shape; return how many were rendered."""
        pos = self._pos
        loop = self._loop
        looping = loop is not None and pos < loop[1]
        loop_start, end = loop if looping and loop is not None else (0, self.num_samples)
        if pos >= end:
            self._end_of_item()
            return 0
        fades = self.fade_samples
        n = min(available, end - pos)
        edge = None
        edge_at = 0
        if pos >= end - fades:  # the last fade before the loop end or the item end
            edge, edge_at = self._ramp_out, pos - (end - fades)
        else:
            n = min(n, end - fades - pos)
            if looping and loop_start <= pos < loop_start + fades:  # the first fade after a wrap
                edge, edge_at = self._ramp_in, pos - loop_start
                n = min(n, fades - edge_at)
        mode = self._mode
        ramp = self._ramp_in if mode == FADE_IN else self._ramp_out if mode == FADE_OUT else None
        if ramp is not None:
            n = min(n, fades - self._ramp)
        source = self._sources[self._active][pos : pos + n]
        target = out[offset : offset + n]
        np.copyto(target, source)  # a mono source broadcasts to every output channel
        if ramp is not None:
            np.multiply(target, ramp[self._ramp : self._ramp + n], out=target)
        if edge is not None:
            np.multiply(target, edge[edge_at : edge_at + n], out=target)
        pos += n
        self._pos = loop_start if looping and pos == end else pos
        if ramp is not None:
            self._ramp += n
            if self._ramp >= fades:
                if mode == FADE_IN:
                    self._mode = FULL
                else:
                    self._finish_fade_out()
        return n
