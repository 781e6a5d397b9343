"""Connects the playback engine to the GUI: loads items, forwards commands, polls the play head at ~30 Hz."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.audio.devices import OutputDevice
from app.audio.engine import EngineStatus, PlaybackEngine
from app.audio.stream import AudioEngineError
from app.core.audition import ORIGINAL, RECONSTRUCTION, loop_region

POLL_INTERVAL_MS = 33


def _frames_major(audio: np.ndarray) -> np.ndarray:
    """float32 [C, T] -> C-contiguous float32 [T, C], the engine's layout."""
    return np.ascontiguousarray(audio.T, dtype=np.float32)


class PlaybackController(QObject):
    """The GUI side of the engine; the engine itself stays Qt-free.

    Signals
    -------
    status_changed(object)
        An :class:`EngineStatus` whenever position, source or play state changed since the last poll.
    error(str)
        A command failed (no device, device refused the stream); the text is for the user.
    """

    status_changed = Signal(object)
    error = Signal(str)

    def __init__(self, engine: PlaybackEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._original: np.ndarray | None = None
        self._condition_inputs: list[tuple[np.ndarray | None, np.ndarray]] = []
        self._last: EngineStatus | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    @property
    def available(self) -> bool:
        """Whether sound can be played at all."""
        return self.engine.available

    @property
    def sample_rate(self) -> int | None:
        """The loaded item's rate."""
        return self.engine.sample_rate

    def load(self, original: np.ndarray, sample_rate: int) -> None:
        """Load a new item holding only the original (float32 [C, T]); stops playback."""
        self._original = _frames_major(original)
        self._condition_inputs: list[tuple[np.ndarray | None, np.ndarray]] = []
        self._run(lambda: self.engine.load([self._original], sample_rate))
        self._last = None  # report the new item's state even if it reads the same
        self.poll()

    def set_reconstruction(self, reconstruction: np.ndarray | None) -> None:
        """Add, replace or (with None) remove the reconstruction (float32 [C, T]) without stopping playback."""
        if self._original is None:
            return
        sources = [self._original]
        if reconstruction is not None:
            sources.append(_frames_major(reconstruction))
        elif self.engine.requested_source == RECONSTRUCTION:
            self._run(lambda: self.engine.select_source(ORIGINAL))
        self._run(lambda: self.engine.update_sources(sources))

    def set_conditions(self, conditions: list[np.ndarray | None]) -> None:
        """Hold every condition (float32 [C, T], aligned) as source ``n + 1`` without stopping playback.

        A condition not rendered yet (None) holds the original's buffer, so the indices of the others stay stable
        while rows finish in any order; the window never selects such a source.
        """
        if self._original is None:
            return
        previous = self._condition_inputs
        frames: list[np.ndarray] = []
        for index, audio in enumerate(conditions):
            if audio is None:
                frames.append(self._original)
            elif index < len(previous) and previous[index][0] is audio:
                frames.append(previous[index][1])  # same buffer as before: the mixer keeps playing it untouched
            else:
                frames.append(_frames_major(audio))
        self._condition_inputs = [(audio, frame) for audio, frame in zip(conditions, frames, strict=True)]
        if self.engine.requested_source > len(conditions) or (
            self.engine.requested_source and conditions[self.engine.requested_source - 1] is None
        ):
            self._run(lambda: self.engine.select_source(ORIGINAL))
        self._run(lambda: self.engine.update_sources([self._original, *frames]))

    def set_loop_s(self, start_s: float, end_s: float) -> tuple[float, float] | None:
        """Loop between two marks (widened to the 0.5 s minimum); returns the loop set, in seconds, or None."""
        rate = self.engine.sample_rate
        if not rate:
            return None
        try:
            start_s, end_s = loop_region(start_s, end_s, self.engine.num_samples / rate)
        except ValueError as exc:
            self.error.emit(str(exc))
            return None
        self._run(lambda: self.engine.set_loop(round(start_s * rate), round(end_s * rate)))
        return start_s, end_s

    def clear_loop(self) -> None:
        """Play to the end again."""
        if self.engine.loaded:
            self._run(self.engine.clear_loop)

    def seek_by_s(self, delta_s: float) -> None:
        """Move the play head by ``delta_s`` seconds (clamped to the item)."""
        rate = self.engine.sample_rate
        if rate:
            self.seek_s(max(self.engine.position_samples / rate + delta_s, 0.0))

    def configure_output(self, device: OutputDevice | None, blocksize: int) -> None:
        """Use another output device or buffer size from the next play."""
        self._run(lambda: self.engine.configure(device, blocksize))

    def toggle_play(self) -> None:
        """Play or stop."""
        if self.engine.loaded:
            self._run(self.engine.toggle)

    def stop(self) -> None:
        """Stop with a fade."""
        self._run(self.engine.stop)

    def select_source(self, index: int) -> None:
        """Hear source ``index`` (ORIGINAL or RECONSTRUCTION), switching at the running sample."""
        if self.engine.loaded and index < self.engine.num_sources:
            self._run(lambda: self.engine.select_source(index))

    def seek_s(self, time_s: float) -> None:
        """Move the play head to ``time_s`` seconds."""
        rate = self.engine.sample_rate
        if rate:
            self._run(lambda: self.engine.seek(round(time_s * rate)))

    def poll(self) -> None:
        """Read the engine state; emit ``status_changed`` if it changed."""
        status = self.engine.poll()
        if status != self._last:
            self._last = status
            self.status_changed.emit(status)

    def shutdown(self) -> None:
        """Stop polling (the engine is closed by its owner)."""
        self._timer.stop()

    def _run(self, command: Callable[[], object]) -> None:
        try:
            command()
        except AudioEngineError as exc:
            self.error.emit(str(exc))
