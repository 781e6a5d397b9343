"""File › Export: the selected condition as WAV/FLAC or ``.ecdc``, the metrics table as CSV, the spectrograms as PNG.

Audio and CSV are written on the GUI thread (fast); ``.ecdc`` runs the encoder, so it is a background job.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from app.core.conditions import MODEL
from app.core.errors import EarBenchError
from app.core.export import write_audio, write_csv, write_ecdc
from app.ui.conditions_table import COLUMNS, row_cells
from app.ui.notices import NoticeLevel
from app.workers import JobContext

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.@_-]+", "_", text).strip("_")


class ExportActions:
    """Export commands of the main window. ``ask_path`` may be replaced (tests) to skip the file dialogs."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.last_written: Path | None = None

    def ask_path(self, title: str, suggested: str, file_filter: str) -> str:
        """Ask where to save (in the last folder); '' when cancelled."""
        folder = self.window.settings.last_folder()
        start = str(Path(folder) / suggested) if folder else suggested
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, file_filter)
        if path:
            self.window.settings.set_last_folder(str(Path(path).parent))
        return path

    def update_enabled(self) -> None:
        """Enable the exports that have something to export."""
        window = self.window
        analysis = window.workspace.analysis(window.table.selected_row())
        actions = window.actions_
        actions.export_audio.setEnabled(analysis is not None)
        actions.export_ecdc.setEnabled(analysis is not None and analysis.spec.kind == MODEL)
        actions.export_csv.setEnabled(len(window.workspace.conditions) > 0)
        actions.export_png.setEnabled(window.state.clip is not None)

    def _stem(self, suffix: str = "") -> str:
        clip = self.window.state.clip
        return _safe_name(f"{Path(clip.name).stem if clip else 'earbench'}{suffix}")

    def export_audio(self) -> Path | None:
        """Save the selected condition (aligned, at the original's rate) as WAV or FLAC."""
        window = self.window
        analysis = window.workspace.analysis(window.table.selected_row())
        if analysis is None:
            return None
        suggested = f"{self._stem('_' + analysis.spec.label)}.wav"
        path = self.ask_path("Save condition audio", suggested, "WAV (*.wav);;FLAC (*.flac)")
        if not path:
            return None
        return self._done(lambda: write_audio(path, analysis.audio, analysis.sample_rate))

    def export_ecdc(self) -> None:
        """Save the selected neural condition's bitstream as ``.ecdc`` (encoded again in the background)."""
        window = self.window
        analysis, clip = window.workspace.analysis(window.table.selected_row()), window.state.clip
        if analysis is None or clip is None or analysis.spec.kind != MODEL or analysis.spec.model_id is None:
            return
        spec = analysis.spec
        path = self.ask_path("Save .ecdc stream", f"{self._stem(f'_{spec.value:g}kbps')}.ecdc", "EnCodec (*.ecdc)")
        if not path:
            return
        model_id = spec.model_id

        def job(context: JobContext) -> Path:
            write_ecdc(path, clip, window.catalog, model_id, spec.value)
            return Path(path)

        window.busy_label.setText(f"Encoding {Path(path).name}…")
        window.runner.submit("export", job, self._written, self._failed)

    def export_csv(self) -> Path | None:
        """Save the conditions table (every row and column as shown) as CSV."""
        rows = self.window.workspace.conditions.rows
        path = self.ask_path("Save metrics table", f"{self._stem('_conditions')}.csv", "CSV (*.csv)")
        if not path:
            return None
        cells = [row_cells(index, row) for index, row in enumerate(rows)]
        return self._done(lambda: write_csv(path, [name for name, _ in COLUMNS], cells))

    def export_png(self) -> Path | None:
        """Save the spectrogram comparison (original, condition, difference) as PNG."""
        path = self.ask_path("Save spectrograms", f"{self._stem('_spectrograms')}.png", "PNG (*.png)")
        if not path:
            return None

        def grab() -> Path:
            if not self.window.spectrograms.grab().save(path, "PNG"):
                raise EarBenchError(f"Cannot write {Path(path).name}")
            return Path(path)

        return self._done(grab)

    def _done(self, write: Callable[[], Path]) -> Path | None:
        try:
            written = write()
        except EarBenchError as exc:
            self._failed(exc)
            return None
        self._written(written)
        return written

    def _written(self, path: Path) -> None:
        self.last_written = path
        self.window.notices.clear_notice("export-error")
        self.window.statusBar().showMessage(f"Saved {path}", 5000)

    def _failed(self, exc: Exception) -> None:
        self.window.notices.show_notice("export-error", html.escape(str(exc)), NoticeLevel.ERROR, dismissible=True)
