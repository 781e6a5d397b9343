"""The main window: open a clip, render its conditions in the background, compare them and switch while playing."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMainWindow, QProgressBar, QSplitter, QVBoxLayout, QWidget

from app.audio.engine import EngineStatus
from app.core.audition import ORIGINAL, AuditionState
from app.core.clip import LONG_CLIP_S, Clip, excerpt, load_clip
from app.core.condition_render import ConditionRenderer
from app.core.conditions import default_conditions, default_model_bitrates, model_condition
from app.core.models import OFFICIAL_CHECKPOINT_DIR, OFFICIAL_CHECKPOINTS, ModelCatalog, ModelEntry
from app.core.renders import RenderService
from app.core.spectrogram import Spectrogram, compute_spectrogram
from app.core.waveform import PeakEnvelope, peak_envelope
from app.ui.app_settings import AppSettings
from app.ui.audition_toolbar import AuditionToolbar
from app.ui.conditions_dialog import AddConditionsDialog
from app.ui.conditions_table import ConditionsTable
from app.ui.excerpt_dialog import ExcerptDialog
from app.ui.export_actions import ExportActions
from app.ui.help_menu import HelpMenu
from app.ui.listening.menu import install_listening_menu
from app.ui.notices import NoticeBar, NoticeLevel
from app.ui.playback_controller import PlaybackController
from app.ui.spectrogram_view import SpectrogramView
from app.ui.waveform_view import WaveformView
from app.ui.window_menus import SEEK_BIG_STEP_S, SEEK_STEP_S, build_menus
from app.ui.window_preferences import WindowPreferences
from app.ui.workspace import Workspace
from app.workers import JobContext, JobRunner

logger = logging.getLogger(__name__)

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff *.w64 *.caf);;All files (*)"
MODEL_FILTER = "Codec checkpoints (*.th *.pt *.pth *.ckpt *.safetensors);;All files (*)"
NO_MODEL_NOTICE = (
    "<b>No trained codec model is installed</b>, so nothing can be rendered yet (the original still plays). "
    "Put an official EnCodec checkpoint ({files}) in <code>{folder}</code> and restart, "
    "or choose a checkpoint file with <i>File &rsaquo; Open model file…</i>"
)


def format_time(seconds: float) -> str:
    """``m:ss.mmm``."""
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


class MainWindow(QMainWindow):
    """Composes the views; the services it drives are built by ``app.main`` and injected here."""

    def __init__(
        self,
        catalog: ModelCatalog,
        renders: RenderService,
        playback: PlaybackController,
        runner: JobRunner,
        parent: QWidget | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog, self.renders, self.playback, self.runner = catalog, renders, playback, runner
        self.settings = settings if settings is not None else AppSettings()
        self.state = AuditionState()
        self.setWindowTitle("EarBench")
        self.setObjectName("earbench_main_window")
        self.setAcceptDrops(True)
        self.resize(1200, 860)
        self.toolbar = AuditionToolbar(self)
        self.addToolBar(self.toolbar)
        self.notices = NoticeBar()
        self.waveform = WaveformView()
        self.spectrograms = SpectrogramView()
        self.workspace = Workspace(ConditionRenderer(renders), runner, playback, self)
        self.table = ConditionsTable(self.workspace.model)
        self.exports = ExportActions(self)
        self.preferences = WindowPreferences(self)
        self._original_spectrogram: Spectrogram | None = None
        self._full_clip: Clip | None = None
        self._loop_in_s: float | None = None
        self._shown_row = -1
        #: Files longer than this get the excerpt dialog before rendering.
        self.long_clip_s = LONG_CLIP_S
        self.excerpt_dialog: ExcerptDialog | None = None
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("main_splitter")
        splitter = self.splitter
        splitter.addWidget(self.waveform)
        splitter.addWidget(self.spectrograms)
        splitter.addWidget(self.table)
        splitter.setSizes([120, 520, 200])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notices)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._build_status_bar()
        self._build_menus()
        self._connect()
        if not playback.available:
            reason = playback.engine.unavailable_reason or "No audio output device."
            self.notices.show_notice(
                "no-audio", f"{html.escape(reason)} Playback is off; everything else works.", NoticeLevel.WARNING
            )
        self._update_controls()
        self.preferences.restore()
        self.refresh_models()

    # ---------------------------------------------------------------- building
    def _build_status_bar(self) -> None:
        self.clip_label = QLabel("Open an audio file (File > Open…, or drop it here)")
        self.render_label = QLabel()
        self.busy_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: the codec reports no finer progress
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        bar = self.statusBar()
        bar.addWidget(self.clip_label, 1)
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.render_label)

    def _build_menus(self) -> None:
        self.actions_ = actions = build_menus(self, self.toolbar)
        self.open_action, self.open_model_action = actions.open, actions.open_model
        actions.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        for action in (*actions.conditions, actions.set_loop, actions.clear_loop, actions.seek_back):
            self.addAction(action)  # window-wide, whatever has the focus
        for action in (actions.seek_forward, actions.seek_back_big, actions.seek_forward_big, actions.log_frequency):
            self.addAction(action)
        install_listening_menu(self)  # Tests › Run a listening test…, Results…
        self.help_menu = HelpMenu(self)  # Help › Keyboard guide (F1), About

    def _connect(self) -> None:
        actions = self.actions_
        actions.open.triggered.connect(self.choose_file)
        actions.open_model.triggered.connect(self.choose_model_file)
        actions.excerpt.triggered.connect(self.choose_excerpt)
        actions.export_audio.triggered.connect(self.exports.export_audio)
        actions.export_ecdc.triggered.connect(self.exports.export_ecdc)
        actions.export_csv.triggered.connect(self.exports.export_csv)
        actions.export_png.triggered.connect(self.exports.export_png)
        actions.preferences.triggered.connect(self.preferences.open_dialog)
        actions.quit.triggered.connect(self.close)
        actions.add_conditions.triggered.connect(self.choose_conditions)
        actions.remove_condition.triggered.connect(lambda: self.workspace.remove(self.table.selected_row()))
        actions.visqol.triggered.connect(self.workspace.compute_visqol)
        actions.log_frequency.toggled.connect(self.preferences.set_log_frequency)
        for number, action in enumerate(actions.conditions, start=1):
            action.triggered.connect(lambda _checked=False, n=number: self.hear_condition(n))
        actions.set_loop.triggered.connect(self.mark_loop)
        actions.clear_loop.triggered.connect(self.clear_loop)
        actions.seek_back.triggered.connect(lambda: self.playback.seek_by_s(-SEEK_STEP_S))
        actions.seek_forward.triggered.connect(lambda: self.playback.seek_by_s(SEEK_STEP_S))
        actions.seek_back_big.triggered.connect(lambda: self.playback.seek_by_s(-SEEK_BIG_STEP_S))
        actions.seek_forward_big.triggered.connect(lambda: self.playback.seek_by_s(SEEK_BIG_STEP_S))
        self.toolbar.selection_changed.connect(self._on_selection_changed)
        self.toolbar.render_clicked.connect(self.render_or_cancel)
        self.toolbar.add_clicked.connect(self.add_selected_model_condition)
        self.toolbar.play_action.triggered.connect(self.playback.toggle_play)
        self.toolbar.original_action.triggered.connect(lambda: self.hear_condition(ORIGINAL))
        self.playback.status_changed.connect(self._on_playback_status)
        self.playback.error.connect(lambda text: self._show_error("audio-error", text))
        self.waveform.seek_requested.connect(self.playback.seek_s)
        self.waveform.loop_edited.connect(self.set_loop_s)
        self.spectrograms.loop_edited.connect(self.set_loop_s)
        self.table.row_selected.connect(self._on_row_selected)
        self.workspace.progress_changed.connect(self._on_render_progress)
        self.workspace.row_failed.connect(lambda text: self._show_error("render-error", text))
        self.workspace.view_ready.connect(self._on_view_ready)
        self.runner.busy_changed.connect(self._on_busy_changed)

    # ------------------------------------------------------------------- clips
    def choose_file(self) -> None:
        """Ask for an audio file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open audio file", self.settings.last_folder(), AUDIO_FILTER)
        if path:
            self.open_file(path)

    def _fill_recent_menu(self) -> None:
        menu = self.actions_.recent_menu
        menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            menu.addAction(Path(path).name, lambda p=path: self.open_file(p)).setToolTip(path)
        if not recent:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear list", self.settings.clear_recent_files).setEnabled(bool(recent))

    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Load an audio file in the background; it replaces the current clip when ready."""
        file_path = Path(path)

        def job(context: JobContext) -> tuple[Clip, PeakEnvelope, Spectrogram]:
            clip = load_clip(file_path)
            return clip, peak_envelope(clip.audio, clip.sample_rate), compute_spectrogram(clip.audio, clip.sample_rate)

        self.busy_label.setText(f"Opening {file_path.name}…")
        self.runner.submit("load", job, self._on_clip_loaded, lambda exc: self._show_error("load-error", str(exc)))

    def _on_clip_loaded(self, loaded: tuple[Clip, PeakEnvelope, Spectrogram]) -> None:
        clip, envelope, spectrogram = loaded
        self._full_clip = clip
        self.settings.add_recent_file(clip.path)
        self.notices.clear_notice("load-error")
        if clip.duration_s > self.long_clip_s:
            self.choose_excerpt()  # the full file stays unloaded until an excerpt (or the whole) is chosen
            return
        self._show_item(clip, envelope, spectrogram)

    def choose_excerpt(self) -> None:
        """Ask which part of the opened file to work on (non-modal; renders are of the excerpt)."""
        full = self._full_clip
        if full is None:
            return
        current = self.state.clip
        start_s = current.offset_s if current is not None and current.path == full.path else 0.0
        self.excerpt_dialog = dialog = ExcerptDialog(full.name, full.duration_s, start_s, self)
        dialog.finished.connect(lambda result: self._on_excerpt_chosen(full, dialog, result))
        dialog.open()

    def _on_excerpt_chosen(self, full: Clip, dialog: ExcerptDialog, result: int) -> None:
        if full is not self._full_clip:
            return
        chosen = full if result != QDialog.DialogCode.Accepted else excerpt(full, dialog.start_s, dialog.length_s)

        def job(context: JobContext) -> tuple[Clip, PeakEnvelope, Spectrogram]:
            rate = chosen.sample_rate
            return chosen, peak_envelope(chosen.audio, rate), compute_spectrogram(chosen.audio, rate)

        self.busy_label.setText("Preparing the excerpt…")
        self.runner.submit("load", job, lambda loaded: self._show_item(*loaded))

    def _show_item(self, clip: Clip, envelope: PeakEnvelope, spectrogram: Spectrogram) -> None:
        self.state.set_clip(clip)
        self.notices.clear_notice("band-limit")
        self.notices.clear_notice("render-error")
        self.playback.load(clip.audio, clip.sample_rate)
        self.waveform.set_original(envelope, clip.duration_s)
        self._original_spectrogram = spectrogram
        self.spectrograms.set_original(spectrogram)
        self.spectrograms.set_condition_title("Condition")
        self._loop_in_s, self._shown_row = None, -1
        part = f" · excerpt from {format_time(clip.offset_s)}" if clip.offset_s or clip is not self._full_clip else ""
        self.clip_label.setText(
            f"{clip.name} · {clip.sample_rate} Hz · {clip.channels} ch · {clip.duration_s:.2f} s{part}"
        )
        self.setWindowTitle(f"{clip.name} - EarBench")
        logger.info("Opened %s (%d Hz, %d ch, %.2f s)", clip.path, clip.sample_rate, clip.channels, clip.duration_s)
        entry = self._selected_entry()
        self.workspace.set_clip(clip, spectrogram, default_conditions(entry, self.settings.anchors_by_default()))
        self._update_controls()

    # ------------------------------------------------------------------ models
    def refresh_models(self) -> None:
        """Look for installed trained models in the background."""
        self.toolbar.show_models_pending()
        self.runner.submit("models", lambda context: self.catalog.refresh(), self._on_models, self._on_models_failed)

    def choose_model_file(self) -> None:
        """Ask for a checkpoint file and offer it as a model."""
        path, _ = QFileDialog.getOpenFileName(self, "Open model file", "", MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str | os.PathLike[str]) -> None:
        """Load a checkpoint in the background and select it when ready."""
        self.busy_label.setText(f"Loading {Path(path).name}…")
        self.runner.submit(
            "model-file",
            lambda context: self.catalog.add_file(path),
            self._on_model_file,
            lambda exc: self._show_error("model-error", f"Cannot use {Path(path).name} as a model: {exc}"),
        )

    def _on_models(self, entries: tuple[ModelEntry, ...]) -> None:
        self._show_models(self.state.model_id)

    def _on_models_failed(self, exc: Exception) -> None:
        self._show_error("model-error", str(exc))
        self._show_models(self.state.model_id)

    def _on_model_file(self, entry: ModelEntry) -> None:
        self.notices.clear_notice("model-error")
        self._show_models(entry.model_id)

    def _show_models(self, current_id: str | None) -> None:
        entries = self.catalog.entries()
        self.toolbar.set_models(entries, current_id)
        if entries or self.runner.is_busy("model-file"):
            self.notices.clear_notice("no-model")
        else:
            files = " or ".join(f"<code>{name}</code>" for name in OFFICIAL_CHECKPOINTS)
            self.notices.show_notice(
                "no-model",
                NO_MODEL_NOTICE.format(files=files, folder=OFFICIAL_CHECKPOINT_DIR),
                NoticeLevel.WARNING,
                action=("Open model file…", self.choose_model_file),
            )
        self._on_selection_changed(self.toolbar.model_id, self.toolbar.bitrate_kbps)

    def _on_selection_changed(self, model_id: str | None, bitrate_kbps: float | None) -> None:
        model_changed = model_id != self.state.model_id
        self.state.select(model_id, bitrate_kbps)
        entry = self._selected_entry()
        if model_changed and entry is not None and self.state.clip is not None:
            conditions = self.workspace.conditions
            if conditions.has_model_rows():
                conditions.replace_model(entry)  # "the selected model": its rows follow the combo
                self.workspace.replace_specs(conditions.specs)
            else:
                self.workspace.add([model_condition(entry, b) for b in default_model_bitrates(entry)])
        self._update_controls()

    def _selected_entry(self) -> ModelEntry | None:
        model_id = self.state.model_id
        return next((e for e in self.catalog.entries() if e.model_id == model_id), None)

    # -------------------------------------------------------------- conditions
    def render_or_cancel(self) -> None:
        """Render every condition not rendered yet, or cancel the renders running."""
        if self.workspace.rendering:
            self.workspace.cancel()
        else:
            self.workspace.render_pending()
        self._update_controls()

    def add_selected_model_condition(self) -> None:
        """Add the toolbar's model at its bitrate as a condition."""
        entry, bitrate = self._selected_entry(), self.state.bitrate_kbps
        if entry is not None and bitrate is not None and self.state.clip is not None:
            self.workspace.add([model_condition(entry, bitrate)])

    def choose_conditions(self) -> None:
        """Open the Add conditions dialog (non-modal)."""
        self.conditions_dialog = dialog = AddConditionsDialog(self._selected_entry(), self)
        dialog.accepted.connect(lambda: self.workspace.add(dialog.specs()))
        dialog.open()

    def _on_render_progress(self, done: int, wanted: int, message: str) -> None:
        rendering = self.workspace.rendering
        self.progress.setRange(0, max(wanted, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{wanted}")
        self.progress.setVisible(rendering or self._busy())
        self.render_label.setText(f"Rendering {done}/{wanted}…" if rendering else "")
        if message:
            self.busy_label.setText(message)
        if self.table.selected_row() < 0 and self.workspace.analysis(0) is not None:
            self.table.select_row(0)
        elif self._shown_row != self.table.selected_row():
            self._on_row_selected(self.table.selected_row())
        self._update_controls()

    def _on_row_selected(self, row: int) -> None:
        analysis = self.workspace.analysis(row)
        if analysis is None:
            return
        self.workspace.request_view(row)

    def _on_view_ready(self, row: int, codec: Spectrogram, diff: Spectrogram | None, envelope: PeakEnvelope) -> None:
        if row != self.table.selected_row():
            return
        analysis = self.workspace.analysis(row)
        if analysis is None:
            return
        self._shown_row = row
        self.spectrograms.set_reconstruction(codec, diff)
        self.spectrograms.set_condition_title(f"{row + 1}: {analysis.spec.label}")
        self.waveform.set_reconstruction(envelope)
        self._show_band_limit(analysis.spec.model_id)

    def _show_band_limit(self, model_id: str | None) -> None:
        clip = self.state.clip
        model_rate = self.catalog.entry(model_id).sample_rate if model_id else None
        if clip is None or model_rate is None or model_rate >= clip.sample_rate:
            self.spectrograms.set_band_limit(None)
            self.notices.clear_notice("band-limit")
            return
        clip_rate = clip.sample_rate
        self.spectrograms.set_band_limit(model_rate / 2)
        self.notices.show_notice(
            "band-limit",
            f"This model codes audio at {model_rate / 1000:g} kHz, so the reconstruction has nothing above "
            f"{model_rate / 2000:g} kHz. Against this {clip_rate / 1000:g} kHz original that loss is audible "
            "at any bitrate.",
            NoticeLevel.INFO,
            dismissible=True,
        )

    # ---------------------------------------------------------------- playback
    def hear_condition(self, number: int) -> None:
        """Switch playback to condition ``number`` (1-9), or the original (0), at the running sample."""
        if number == ORIGINAL:
            self.playback.select_source(ORIGINAL)
        elif self.workspace.analysis(number - 1) is not None:
            self.playback.select_source(number)
            self.table.select_row(number - 1)
        else:
            self.statusBar().showMessage(f"Condition {number} is not rendered", 2000)
        self._on_playback_status(self.playback.engine.poll())

    def mark_loop(self) -> None:
        """L: the first press marks the loop start, the second the end (loop on), the third clears the loop."""
        rate = self.playback.sample_rate
        if not rate:
            return
        position_s = self.playback.engine.position_samples / rate
        if self.waveform.loop is not None:
            self.clear_loop()
        elif self._loop_in_s is None:
            self._loop_in_s = position_s
            self.statusBar().showMessage(f"Loop start at {format_time(position_s)}; press L again for the end", 3000)
        else:
            self.set_loop_s(self._loop_in_s, position_s)

    def set_loop_s(self, start_s: float, end_s: float) -> None:
        """Loop between two times (widened to 0.5 s); shown on the waveform and the spectrograms."""
        region = self.playback.set_loop_s(start_s, end_s)
        self._loop_in_s = None
        self.waveform.set_loop(region)
        self.spectrograms.set_loop(region)

    def clear_loop(self) -> None:
        """Play to the end again."""
        self.playback.clear_loop()
        self._loop_in_s = None
        self.waveform.set_loop(None)
        self.spectrograms.set_loop(None)

    def _on_playback_status(self, status: EngineStatus) -> None:
        rate = self.playback.sample_rate or 1
        position_s = status.position_samples / rate
        self.waveform.set_playhead_s(position_s)
        self.spectrograms.set_playhead(position_s)
        duration = self.state.clip.duration_s if self.state.clip else 0.0
        self.toolbar.set_position_text(f"{format_time(position_s)} / {format_time(duration)}")
        self.toolbar.set_playing(status.playing)
        source = self.playback.engine.requested_source
        analysis = self.workspace.analysis(source - 1) if source else None
        label = f"{source}: {analysis.spec.label}" if analysis is not None else "Original"
        self.toolbar.set_source_text(label, analysis is None)

    # ------------------------------------------------------------------ common
    def _busy(self) -> bool:
        return any(self.runner.is_busy(c) for c in ("load", "model-file", "export", "metrics"))

    def _on_busy_changed(self, channel: str, busy: bool) -> None:
        active = self._busy() or self.workspace.rendering
        if not self.workspace.rendering:
            self.progress.setRange(0, 0)  # indeterminate: loading and exports report no finer progress
        self.progress.setVisible(active)
        if not active:
            self.busy_label.clear()
        self._update_controls()

    def _update_controls(self) -> None:
        has_clip = self.state.clip is not None
        rendering = self.workspace.rendering
        self.toolbar.set_render_state(has_clip and bool(self.workspace.conditions.pending()), rendering)
        self.toolbar.set_add_enabled(self.state.can_render)
        self.toolbar.set_playback_enabled(self.playback.available and has_clip)
        actions = self.actions_
        for number, action in enumerate(actions.conditions, start=1):
            action.setEnabled(self.workspace.analysis(number - 1) is not None)
        actions.excerpt.setEnabled(self._full_clip is not None and self._full_clip.duration_s > 1.0)
        actions.add_conditions.setEnabled(has_clip)
        actions.visqol.setEnabled(self.workspace.visqol_missing)
        self.exports.update_enabled()

    def _show_error(self, key: str, text: str) -> None:
        logger.warning("%s: %s", key, text)
        self.notices.show_notice(key, html.escape(text), NoticeLevel.ERROR, dismissible=True)

    # ------------------------------------------------------------ drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.preferences.save_window_state()
        self.playback.stop()
        self.playback.shutdown()
        super().closeEvent(event)
