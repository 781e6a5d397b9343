"""Render control in the main window: Render/Cancel, progress in the status bar, and the selected condition's views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.core.conditions import model_condition
from app.core.spectrogram import Spectrogram
from app.core.waveform import PeakEnvelope
from app.ui.notices import NoticeLevel

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

#: Job-runner channels whose work shows the (indeterminate) progress bar; renders report their own progress.
BUSY_CHANNELS = ("load", "model-file", "export", "metrics")


class WindowRenders(QObject):
    """Starts and cancels the workspace's renders and shows their progress and results in the window.

    ``shown_row`` is the conditions-table row whose reconstruction the spectrograms and waveform show (-1: none).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # a child: Qt drops its connections when the window is deleted
        self.window = window
        self.shown_row = -1

    def render_or_cancel(self) -> None:
        """Render every condition not rendered yet, or cancel the renders running."""
        workspace = self.window.workspace
        if workspace.rendering:
            workspace.cancel()
        else:
            workspace.render_pending()
        self.window.update_controls()

    def add_selected_model_condition(self) -> None:
        """Add the toolbar's model at its bitrate as a condition."""
        window = self.window
        entry, bitrate = window.models.selected_entry(), window.state.bitrate_kbps
        if entry is not None and bitrate is not None and window.state.clip is not None:
            window.workspace.add([model_condition(entry, bitrate)])

    def busy(self) -> bool:
        """Whether a load, model load, export or metrics job is running."""
        return any(self.window.runner.is_busy(channel) for channel in BUSY_CHANNELS)

    def on_render_progress(self, done: int, wanted: int, message: str) -> None:
        """Show ``done`` of ``wanted`` renders; select the first condition once it is ready."""
        window = self.window
        rendering = window.workspace.rendering
        window.progress.setRange(0, max(wanted, 1))
        window.progress.setValue(done)
        window.progress.setFormat(f"{done}/{wanted}")
        window.progress.setVisible(rendering or self.busy())
        window.render_label.setText(f"Rendering {done}/{wanted}…" if rendering else "")
        if message:
            window.busy_label.setText(message)
        table = window.table
        if table.selected_row() < 0 and window.workspace.analysis(0) is not None:
            table.select_row(0)
        elif self.shown_row != table.selected_row():
            self.on_row_selected(table.selected_row())
        window.update_controls()

    def on_busy_changed(self, channel: str, busy: bool) -> None:
        """A job channel started or stopped: show the progress bar while anything runs."""
        window = self.window
        active = self.busy() or window.workspace.rendering
        if not window.workspace.rendering:
            window.progress.setRange(0, 0)  # indeterminate: loading and exports report no finer progress
        window.progress.setVisible(active)
        if not active:
            window.busy_label.clear()
        window.update_controls()

    def on_row_selected(self, row: int) -> None:
        """Ask the workspace for the views of a rendered row (they arrive through :meth:`on_view_ready`)."""
        if self.window.workspace.analysis(row) is not None:
            self.window.workspace.request_view(row)

    def on_view_ready(self, row: int, codec: Spectrogram, diff: Spectrogram | None, envelope: PeakEnvelope) -> None:
        """Show a row's reconstruction spectrogram, difference and envelope, if it is still the selected row."""
        window = self.window
        if row != window.table.selected_row():
            return
        analysis = window.workspace.analysis(row)
        if analysis is None:
            return
        self.shown_row = row
        window.spectrograms.set_reconstruction(codec, diff)
        window.spectrograms.set_condition_title(f"{row + 1}: {analysis.spec.label}")
        window.waveform.set_reconstruction(envelope)
        self._show_band_limit(analysis.spec.model_id)

    def _show_band_limit(self, model_id: str | None) -> None:
        window = self.window
        clip = window.state.clip
        model_rate = window.catalog.entry(model_id).sample_rate if model_id else None
        if clip is None or model_rate is None or model_rate >= clip.sample_rate:
            window.spectrograms.set_band_limit(None)
            window.notices.clear_notice("band-limit")
            return
        clip_rate = clip.sample_rate
        window.spectrograms.set_band_limit(model_rate / 2)
        window.notices.show_notice(
            "band-limit",
            f"This model codes audio at {model_rate / 1000:g} kHz, so the reconstruction has nothing above "
            f"{model_rate / 2000:g} kHz. Against this {clip_rate / 1000:g} kHz original that loss is audible "
            "at any bitrate.",
            NoticeLevel.INFO,
            dismissible=True,
        )
