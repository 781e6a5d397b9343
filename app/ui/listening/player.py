"""Plays one listening-test page through the engine: every signal of the page loaded at one rate and length, keys
switched at the running sample (5 ms out, 5 ms in), an optional loop, and no level control at all (the level is
locked by the stimuli, BS.1534-3 §7.1/§8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.audio.engine import PlaybackEngine
from app.audio.stream import AudioEngineError
from app.core.audition import MIN_LOOP_S, loop_region
from app.core.errors import EarBenchError
from app.core.listening.page_audio import PageAudio, load_page_audio

POLL_INTERVAL_MS = 33


class PagePlayer(QObject):
    """The GUI side of the engine for a test page.

    Signals
    -------
    state_changed()
        The current key, play state or position changed.
    error(str)
        Playback failed (no device, unreadable stimulus); the text is for the user. Choosing a signal still works
        without a device, so a test can be taken (and tested) on a machine without sound.
    """

    state_changed = Signal()
    error = Signal(str)

    def __init__(self, engine: PlaybackEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.audio: PageAudio | None = None
        self._keys: list[str] = []
        self.current_key: str | None = None
        self._last_state: tuple[bool, int] | None = None
        self._loop_s: tuple[float, float] | None = None
        # Transport running as requested; the engine's own flag lags by one callback, so a quick switch after a
        # play would not count as a switch without this.
        self._running = False
        self._seen_playing = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    @property
    def available(self) -> bool:
        return self.engine.available

    def load(self, keys: Sequence[str], paths: Sequence[Path]) -> None:
        """Load a page: ``keys[i]`` names the stimulus in ``paths[i]``; stops playback and clears the loop."""
        self.current_key = None
        self._keys = list(keys)
        self._loop_s = None
        self._running = self._seen_playing = False
        try:
            self.audio = load_page_audio(list(paths))
            self.engine.load(list(self.audio.sources), self.audio.sample_rate)
        except (EarBenchError, AudioEngineError, ValueError) as exc:
            self.audio = None
            self.engine.unload()
            self.error.emit(str(exc))
        self.state_changed.emit()

    @property
    def is_playing(self) -> bool:
        return self._running or self.engine.is_playing

    def hear(self, key: str) -> bool:
        """Play ``key`` from the running position; returns True when this switched from another playing signal."""
        if key not in self._keys:
            raise KeyError(key)
        switched = self.is_playing and self.current_key not in (None, key)
        self.current_key = key
        if self.engine.loaded:
            self._run(lambda: self.engine.select_source(self._keys.index(key)))
            if not self.engine.is_playing:
                self._running = self._run(self.engine.play)
        self.state_changed.emit()
        return switched

    def stop(self) -> None:
        self._running = False
        if self.engine.loaded:
            self._run(self.engine.stop)
        self.state_changed.emit()

    def rewind(self) -> None:
        """Back to the loop start (or the beginning)."""
        if self.engine.loaded:
            loop = self.loop_s
            self._run(lambda: self.engine.seek(round(loop[0] * self.engine.sample_rate) if loop else 0))

    def set_loop_s(self, start_s: float, end_s: float) -> tuple[float, float] | None:
        """Loop between two marks (at least 0.5 s, BS.1534-3 §5.3); returns the loop set, in seconds."""
        if self.audio is None:
            return None
        try:
            start_s, end_s = loop_region(start_s, end_s, self.audio.duration_s, MIN_LOOP_S)
        except ValueError as exc:
            self.error.emit(str(exc))
            return None
        rate = self.audio.sample_rate
        self._run(lambda: self.engine.set_loop(round(start_s * rate), round(end_s * rate)))
        self._loop_s = (start_s, end_s)
        return start_s, end_s

    def clear_loop(self) -> None:
        if self.engine.loaded:
            self._run(self.engine.clear_loop)
        self._loop_s = None

    @property
    def loop_s(self) -> tuple[float, float] | None:
        return self._loop_s

    @property
    def position_s(self) -> float:
        rate = self.engine.sample_rate
        return self.engine.position_samples / rate if rate else 0.0

    def poll(self) -> None:
        status = self.engine.poll()
        if status.playing:
            self._seen_playing = True
        elif self._seen_playing:  # reached the end of the excerpt (no loop)
            self._running = self._seen_playing = False
        state = (status.playing, status.position_samples)
        if state != self._last_state:
            self._last_state = state
            self.state_changed.emit()

    def shutdown(self) -> None:
        """Stop polling and release the device."""
        self._timer.stop()
        self.engine.close()

    def _run(self, command: Callable[[], object]) -> bool:
        try:
            command()
        except AudioEngineError as exc:
            self.error.emit(str(exc))
            return False
        return True
