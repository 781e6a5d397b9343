"""Playback control in the main window: which source plays, the loop region (key L), and the play-head display."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.audio.engine import EngineStatus
from app.core.audition import ORIGINAL

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def format_time(seconds: float) -> str:
    """``m:ss.mmm``."""
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


class WindowTransport(QObject):
    """Drives the window's :class:`~app.ui.playback_controller.PlaybackController` and mirrors its state in the views.

    ``loop_in_s`` is the loop start marked by a first press of L, waiting for the end (``None``: not marking).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # a child: Qt drops its connections when the window is deleted
        self.window = window
        self.loop_in_s: float | None = None

    def hear_condition(self, number: int) -> None:
        """Switch playback to condition ``number`` (1-9), or the original (0), at the running sample."""
        window = self.window
        if number == ORIGINAL:
            window.playback.select_source(ORIGINAL)
        elif window.workspace.analysis(number - 1) is not None:
            window.playback.select_source(number)
            window.table.select_row(number - 1)
        else:
            window.statusBar().showMessage(f"Condition {number} is not rendered", 2000)
        self.on_playback_status(window.playback.engine.poll())

    def mark_loop(self) -> None:
        """L: the first press marks the loop start, the second the end (loop on), the third clears the loop."""
        window = self.window
        rate = window.playback.sample_rate
        if not rate:
            return
        position_s = window.playback.engine.position_samples / rate
        if window.waveform.loop is not None:
            self.clear_loop()
        elif self.loop_in_s is None:
            self.loop_in_s = position_s
            window.statusBar().showMessage(f"Loop start at {format_time(position_s)}; press L again for the end", 3000)
        else:
            self.set_loop_s(self.loop_in_s, position_s)

    def set_loop_s(self, start_s: float, end_s: float) -> None:
        """Loop between two times (widened to 0.5 s); shown on the waveform and the spectrograms."""
        window = self.window
        region = window.playback.set_loop_s(start_s, end_s)
        self.loop_in_s = None
        window.waveform.set_loop(region)
        window.spectrograms.set_loop(region)

    def clear_loop(self) -> None:
        """Play to the end again."""
        window = self.window
        window.playback.clear_loop()
        self.loop_in_s = None
        window.waveform.set_loop(None)
        window.spectrograms.set_loop(None)

    def on_playback_status(self, status: EngineStatus) -> None:
        """Move the play heads and update the toolbar's position, play button and source label."""
        window = self.window
        rate = window.playback.sample_rate or 1
        position_s = status.position_samples / rate
        window.waveform.set_playhead_s(position_s)
        window.spectrograms.set_playhead(position_s)
        duration = window.state.clip.duration_s if window.state.clip else 0.0
        window.toolbar.set_position_text(f"{format_time(position_s)} / {format_time(duration)}")
        window.toolbar.set_playing(status.playing)
        source = window.playback.engine.requested_source
        analysis = window.workspace.analysis(source - 1) if source else None
        label = f"{source}: {analysis.spec.label}" if analysis is not None else "Original"
        window.toolbar.set_source_text(label, analysis is None)
