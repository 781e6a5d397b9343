"""Opening audio in the main window: File › Open, Open recent, dropped files and the excerpt dialog for long files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QFileDialog

from app.core.clip import Clip, excerpt, load_clip
from app.core.spectrogram import Spectrogram, compute_spectrogram
from app.core.waveform import PeakEnvelope, peak_envelope
from app.ui.excerpt_dialog import ExcerptDialog

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff *.w64 *.caf);;All files (*)"

#: A clip with what its views need: the waveform's peak envelope and the spectrogram.
AnalysedClip = tuple[Clip, PeakEnvelope, Spectrogram]


def analyse_clip(clip: Clip) -> AnalysedClip:
    """``clip`` with its peak envelope and spectrogram (slow for long clips: run it as a background job)."""
    return clip, peak_envelope(clip.audio, clip.sample_rate), compute_spectrogram(clip.audio, clip.sample_rate)


class WindowClips(QObject):
    """Loads audio files on the window's job runner and hands them to :meth:`MainWindow.show_clip`.

    A file longer than ``window.long_clip_s`` first gets the (non-modal) excerpt dialog; the views then show the
    excerpt chosen, or the whole file if the dialog is cancelled.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # a child: Qt drops its connections when the window is deleted
        self.window = window
        #: The whole file opened last (what is shown may be an excerpt of it).
        self.full_clip: Clip | None = None
        self.excerpt_dialog: ExcerptDialog | None = None

    def choose_file(self) -> None:
        """Ask for an audio file and open it."""
        window = self.window
        path, _ = QFileDialog.getOpenFileName(window, "Open audio file", window.settings.last_folder(), AUDIO_FILTER)
        if path:
            self.open_file(path)

    def fill_recent_menu(self) -> None:
        """File › Open recent: the remembered files, then *Clear list*."""
        menu, settings = self.window.actions_.recent_menu, self.window.settings
        menu.clear()
        recent = settings.recent_files()
        for path in recent:
            menu.addAction(Path(path).name, lambda p=path: self.open_file(p)).setToolTip(path)
        if not recent:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear list", settings.clear_recent_files).setEnabled(bool(recent))

    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Load an audio file in the background; it replaces the current clip when ready."""
        file_path, window = Path(path), self.window
        window.busy_label.setText(f"Opening {file_path.name}…")
        window.runner.submit(
            "load",
            lambda context: analyse_clip(load_clip(file_path)),
            self._on_loaded,
            lambda exc: window.show_error("load-error", str(exc)),
        )

    def _on_loaded(self, loaded: AnalysedClip) -> None:
        clip, window = loaded[0], self.window
        self.full_clip = clip
        window.settings.add_recent_file(clip.path)
        window.notices.clear_notice("load-error")
        if clip.duration_s > window.long_clip_s:
            self.choose_excerpt()  # the full file stays unshown until an excerpt (or the whole) is chosen
            return
        window.show_clip(*loaded)

    def choose_excerpt(self) -> None:
        """Ask which part of the opened file to work on (non-modal; renders are of the excerpt)."""
        full = self.full_clip
        if full is None:
            return
        current = self.window.state.clip
        start_s = current.offset_s if current is not None and current.path == full.path else 0.0
        self.excerpt_dialog = dialog = ExcerptDialog(full.name, full.duration_s, start_s, self.window)
        dialog.finished.connect(lambda result: self._on_excerpt_chosen(full, dialog, result))
        dialog.open()

    def _on_excerpt_chosen(self, full: Clip, dialog: ExcerptDialog, result: int) -> None:
        if full is not self.full_clip:
            return
        chosen = full if result != QDialog.DialogCode.Accepted else excerpt(full, dialog.start_s, dialog.length_s)
        window = self.window
        window.busy_label.setText("Preparing the excerpt…")
        window.runner.submit("load", lambda context: analyse_clip(chosen), lambda loaded: window.show_clip(*loaded))
