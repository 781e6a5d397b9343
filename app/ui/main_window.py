"""The main window: open a clip, render its conditions in the background, compare them and switch while playing."""

from __future__ import annotations

import html
import logging
import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QSplitter, QVBoxLayout, QWidget

from app.core.audition import ORIGINAL, AuditionState
from app.core.clip import LONG_CLIP_S, Clip
from app.core.condition_render import ConditionRenderer
from app.core.conditions import default_conditions
from app.core.models import ModelCatalog
from app.core.renders import RenderService
from app.core.spectrogram import Spectrogram
from app.core.waveform import PeakEnvelope
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
from app.ui.window_clips import WindowClips
from app.ui.window_menus import SEEK_BIG_STEP_S, SEEK_STEP_S, build_menus
from app.ui.window_models import WindowModels
from app.ui.window_preferences import WindowPreferences
from app.ui.window_renders import WindowRenders
from app.ui.window_transport import WindowTransport, format_time
from app.ui.workspace import Workspace
from app.workers import JobRunner

logger = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Composes the views; the services it drives are built by ``app.main`` and injected here.

    The window's commands live in helpers it owns: ``clips`` (opening files, excerpts), ``models`` (the model
    choice), ``render_control`` (rendering and the selected condition's views), ``transport`` (playback and loop),
    ``exports`` and ``preferences``.
    """

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
        self.clips = WindowClips(self)
        self.models = WindowModels(self)
        self.render_control = WindowRenders(self)
        self.transport = WindowTransport(self)
        #: Files longer than this get the excerpt dialog before rendering.
        self.long_clip_s = LONG_CLIP_S
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
        self.update_controls()
        self.preferences.restore()
        self.models.refresh()

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
        actions.recent_menu.aboutToShow.connect(self.clips.fill_recent_menu)
        for action in (*actions.conditions, actions.set_loop, actions.clear_loop, actions.seek_back):
            self.addAction(action)  # window-wide, whatever has the focus
        for action in (actions.seek_forward, actions.seek_back_big, actions.seek_forward_big, actions.log_frequency):
            self.addAction(action)
        install_listening_menu(self)  # Tests › Run a listening test…, Results…
        self.help_menu = HelpMenu(self)  # Help › Keyboard guide (F1), About

    def _connect(self) -> None:
        actions = self.actions_
        actions.open.triggered.connect(self.clips.choose_file)
        actions.open_model.triggered.connect(self.models.choose_file)
        actions.excerpt.triggered.connect(self.clips.choose_excerpt)
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
            action.triggered.connect(lambda _checked=False, n=number: self.transport.hear_condition(n))
        actions.set_loop.triggered.connect(self.transport.mark_loop)
        actions.clear_loop.triggered.connect(self.transport.clear_loop)
        actions.seek_back.triggered.connect(lambda: self.playback.seek_by_s(-SEEK_STEP_S))
        actions.seek_forward.triggered.connect(lambda: self.playback.seek_by_s(SEEK_STEP_S))
        actions.seek_back_big.triggered.connect(lambda: self.playback.seek_by_s(-SEEK_BIG_STEP_S))
        actions.seek_forward_big.triggered.connect(lambda: self.playback.seek_by_s(SEEK_BIG_STEP_S))
        self.toolbar.selection_changed.connect(self.models.on_selection_changed)
        self.toolbar.render_clicked.connect(self.render_control.render_or_cancel)
        self.toolbar.add_clicked.connect(self.render_control.add_selected_model_condition)
        self.toolbar.play_action.triggered.connect(self.playback.toggle_play)
        self.toolbar.original_action.triggered.connect(lambda: self.transport.hear_condition(ORIGINAL))
        self.playback.status_changed.connect(self.transport.on_playback_status)
        self.playback.error.connect(lambda text: self.show_error("audio-error", text))
        self.waveform.seek_requested.connect(self.playback.seek_s)
        self.waveform.loop_edited.connect(self.transport.set_loop_s)
        self.spectrograms.loop_edited.connect(self.transport.set_loop_s)
        self.table.row_selected.connect(self.render_control.on_row_selected)
        self.workspace.progress_changed.connect(self.render_control.on_render_progress)
        self.workspace.row_failed.connect(lambda text: self.show_error("render-error", text))
        self.workspace.view_ready.connect(self.render_control.on_view_ready)
        self.runner.busy_changed.connect(self.render_control.on_busy_changed)

    # ------------------------------------------------------------------- clips
    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Load an audio file in the background; it replaces the current clip when ready."""
        self.clips.open_file(path)

    def show_clip(self, clip: Clip, envelope: PeakEnvelope, spectrogram: Spectrogram) -> None:
        """Make ``clip`` the one auditioned: play it, show it, and start its default conditions."""
        self.state.set_clip(clip)
        self.notices.clear_notice("band-limit")
        self.notices.clear_notice("render-error")
        self.playback.load(clip.audio, clip.sample_rate)
        self.waveform.set_original(envelope, clip.duration_s)
        self.spectrograms.set_original(spectrogram)
        self.spectrograms.set_condition_title("Condition")
        self.transport.loop_in_s, self.render_control.shown_row = None, -1
        is_excerpt = bool(clip.offset_s) or clip is not self.clips.full_clip
        part = f" · excerpt from {format_time(clip.offset_s)}" if is_excerpt else ""
        self.clip_label.setText(
            f"{clip.name} · {clip.sample_rate} Hz · {clip.channels} ch · {clip.duration_s:.2f} s{part}"
        )
        self.setWindowTitle(f"{clip.name} - EarBench")
        logger.info("Opened %s (%d Hz, %d ch, %.2f s)", clip.path, clip.sample_rate, clip.channels, clip.duration_s)
        entry = self.models.selected_entry()
        self.workspace.set_clip(clip, spectrogram, default_conditions(entry, self.settings.anchors_by_default()))
        self.update_controls()

    # ------------------------------------------------------- models, conditions
    def open_model_file(self, path: str | os.PathLike[str]) -> None:
        """Load a checkpoint in the background and select it when ready."""
        self.models.open_file(path)

    def _on_selection_changed(self, model_id: str | None, bitrate_kbps: float | None) -> None:
        # kept for packaging/screenshots.py, which re-applies the toolbar's choice after loading a model
        self.models.on_selection_changed(model_id, bitrate_kbps)

    @property
    def _shown_row(self) -> int:
        """The table row whose reconstruction is shown (-1: none); tests and screenshots wait on it."""
        return self.render_control.shown_row

    @property
    def excerpt_dialog(self) -> ExcerptDialog | None:
        """The excerpt dialog opened last, if any."""
        return self.clips.excerpt_dialog

    def choose_conditions(self) -> None:
        """Open the Add conditions dialog (non-modal)."""
        self.conditions_dialog = dialog = AddConditionsDialog(self.models.selected_entry(), self)
        dialog.accepted.connect(lambda: self.workspace.add(dialog.specs()))
        dialog.open()

    # ---------------------------------------------------------------- playback
    def set_loop_s(self, start_s: float, end_s: float) -> None:
        """Loop between two times (widened to 0.5 s); shown on the waveform and the spectrograms."""
        self.transport.set_loop_s(start_s, end_s)

    def clear_loop(self) -> None:
        """Play to the end again."""
        self.transport.clear_loop()

    # ------------------------------------------------------------------ common
    def update_controls(self) -> None:
        """Enable the toolbar buttons and actions that have something to act on."""
        has_clip = self.state.clip is not None
        rendering = self.workspace.rendering
        self.toolbar.set_render_state(has_clip and bool(self.workspace.conditions.pending()), rendering)
        self.toolbar.set_add_enabled(self.state.can_render)
        self.toolbar.set_playback_enabled(self.playback.available and has_clip)
        actions = self.actions_
        for number, action in enumerate(actions.conditions, start=1):
            action.setEnabled(self.workspace.analysis(number - 1) is not None)
        full_clip = self.clips.full_clip
        actions.excerpt.setEnabled(full_clip is not None and full_clip.duration_s > 1.0)
        actions.add_conditions.setEnabled(has_clip)
        actions.visqol.setEnabled(self.workspace.visqol_missing)
        self.exports.update_enabled()

    def show_error(self, key: str, text: str) -> None:
        """Log ``text`` and show it in a dismissible error notice (``key`` replaces an earlier one)."""
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
