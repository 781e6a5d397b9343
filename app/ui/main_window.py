"""The main window: open a clip, render it through a codec in the background, and A/B the two while playing."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QProgressBar, QSplitter, QVBoxLayout, QWidget

from app.audio.engine import EngineStatus
from app.core.audition import ORIGINAL, RECONSTRUCTION, AuditionState
from app.core.clip import Clip, load_clip
from app.core.models import OFFICIAL_CHECKPOINT_DIR, OFFICIAL_CHECKPOINTS, ModelCatalog, ModelEntry
from app.core.renders import RenderResult, RenderService
from app.core.spectrogram import Spectrogram, compute_spectrogram, difference
from app.core.waveform import PeakEnvelope, peak_envelope
from app.ui.audition_toolbar import AuditionToolbar
from app.ui.notices import NoticeBar, NoticeLevel
from app.ui.playback_controller import PlaybackController
from app.ui.spectrogram_view import SpectrogramView
from app.ui.waveform_view import WaveformView
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
    ) -> None:
        super().__init__(parent)
        self.catalog, self.renders, self.playback, self.runner = catalog, renders, playback, runner
        self.state = AuditionState()
        self.setWindowTitle("EarBench")
        self.setAcceptDrops(True)
        self.resize(1000, 760)
        self.toolbar = AuditionToolbar(self)
        self.addToolBar(self.toolbar)
        self.notices = NoticeBar()
        self.waveform = WaveformView()
        self.spectrograms = SpectrogramView()
        self._original_spectrogram: Spectrogram | None = None
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.waveform)
        splitter.addWidget(self.spectrograms)
        splitter.setSizes([180, 520])
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
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = file_menu.addAction("&Open…", QKeySequence.StandardKey.Open, self.choose_file)
        self.open_model_action = file_menu.addAction("Open &model file…", self.choose_model_file)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)
        play_menu = self.menuBar().addMenu("&Playback")
        for action in (self.toolbar.play_action, self.toolbar.original_action, self.toolbar.codec_action):
            play_menu.addAction(action)
        play_menu.addSeparator()
        play_menu.addAction(self.toolbar.render_action)

    def _connect(self) -> None:
        self.toolbar.selection_changed.connect(self._on_selection_changed)
        self.toolbar.render_clicked.connect(self.render_or_cancel)
        self.toolbar.play_action.triggered.connect(self.playback.toggle_play)
        self.toolbar.original_action.triggered.connect(lambda: self.playback.select_source(ORIGINAL))
        self.toolbar.codec_action.triggered.connect(lambda: self.playback.select_source(RECONSTRUCTION))
        self.playback.status_changed.connect(self._on_playback_status)
        self.playback.error.connect(lambda text: self._show_error("audio-error", text))
        self.waveform.seek_requested.connect(self.playback.seek_s)
        self.runner.busy_changed.connect(self._on_busy_changed)

    # ------------------------------------------------------------------- clips
    def choose_file(self) -> None:
        """Ask for an audio file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open audio file", "", AUDIO_FILTER)
        if path:
            self.open_file(path)

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
        self.runner.cancel("render")
        self.state.set_clip(clip)
        self.notices.clear_notice("load-error")
        self.notices.clear_notice("band-limit")
        self.playback.load(clip.audio, clip.sample_rate)
        self.waveform.set_original(envelope, clip.duration_s)
        self._original_spectrogram = spectrogram
        self.spectrograms.set_original(spectrogram)
        self.toolbar.set_codec_source(False)
        self.render_label.clear()
        self.clip_label.setText(f"{clip.name} · {clip.sample_rate} Hz · {clip.channels} ch · {clip.duration_s:.2f} s")
        self.setWindowTitle(f"{clip.name} - EarBench")
        logger.info("Opened %s (%d Hz, %d ch, %.2f s)", clip.path, clip.sample_rate, clip.channels, clip.duration_s)
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
        self.state.select(model_id, bitrate_kbps)
        self._update_controls()

    # ----------------------------------------------------------------- renders
    def render_or_cancel(self) -> None:
        """Start a render of the current selection, or cancel the running one."""
        if self.runner.is_busy("render"):
            self.runner.cancel("render")
            self.state.cancel_pending()
            return
        if not self.state.can_render:
            return
        request = self.state.new_request()
        original = self._original_spectrogram  # of request.clip: both are replaced together on load

        def job(context: JobContext) -> tuple[RenderResult, PeakEnvelope, Spectrogram, Spectrogram | None]:
            result = self.renders.render(request, context.cancelled, context.progress)
            codec = compute_spectrogram(result.audio, request.clip.sample_rate)
            diff = difference(original, codec) if original is not None else None
            return result, peak_envelope(result.audio, request.clip.sample_rate), codec, diff

        self.busy_label.setText(f"Rendering at {request.bitrate_kbps:g} kbps…")
        self.runner.submit(
            "render",
            job,
            self._on_rendered,
            lambda exc: self._show_error("render-error", str(exc)),
            lambda fraction, message: self.busy_label.setText(message),
        )

    def _on_rendered(self, rendered: tuple[RenderResult, PeakEnvelope, Spectrogram, Spectrogram | None]) -> None:
        result, envelope, codec_spectrogram, difference_spectrogram = rendered
        if not self.state.accept(result):
            return
        self.notices.clear_notice("render-error")
        self.playback.set_reconstruction(result.audio)
        self.waveform.set_reconstruction(envelope)
        self.spectrograms.set_reconstruction(codec_spectrogram, difference_spectrogram)
        bitrate = f"{result.request.bitrate_kbps:g} kbps"
        self.toolbar.set_codec_source(self.playback.available, f"Codec {bitrate}")
        self._show_band_limit(result)
        timing = "cached" if result.from_cache else f"rendered in {result.elapsed_s:.1f} s"
        self.render_label.setText(f"Codec: {result.model_name} @ {bitrate} ({timing})")
        logger.info("Rendered %s @ %s (%s)", result.model_name, bitrate, timing)
        self._update_controls()

    def _show_band_limit(self, result: RenderResult) -> None:
        model_rate = self.catalog.entry(result.request.model_id).sample_rate
        clip_rate = result.request.clip.sample_rate
        self.spectrograms.set_band_limit(model_rate / 2 if model_rate < clip_rate else None)
        if model_rate >= clip_rate:
            self.notices.clear_notice("band-limit")
            return
        self.notices.show_notice(
            "band-limit",
            f"This model codes audio at {model_rate / 1000:g} kHz, so the reconstruction has nothing above "
            f"{model_rate / 2000:g} kHz. Against this {clip_rate / 1000:g} kHz original that loss is audible "
            "at any bitrate.",
            NoticeLevel.INFO,
            dismissible=True,
        )

    # ---------------------------------------------------------------- playback
    def _on_playback_status(self, status: EngineStatus) -> None:
        rate = self.playback.sample_rate or 1
        position_s = status.position_samples / rate
        self.waveform.set_playhead_s(position_s)
        self.spectrograms.set_playhead(position_s)
        duration = self.state.clip.duration_s if self.state.clip else 0.0
        self.toolbar.set_position_text(f"{format_time(position_s)} / {format_time(duration)}")
        self.toolbar.set_playing(status.playing)

    # ------------------------------------------------------------------ common
    def _on_busy_changed(self, channel: str, busy: bool) -> None:
        active = any(self.runner.is_busy(c) for c in ("load", "render", "model-file"))
        self.progress.setVisible(active)
        if not active:
            self.busy_label.clear()
        self._update_controls()

    def _update_controls(self) -> None:
        rendering = self.runner.is_busy("render")
        self.toolbar.set_render_state(self.state.can_render, rendering)
        self.toolbar.set_playback_enabled(self.playback.available and self.state.clip is not None)

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
        self.playback.stop()
        self.playback.shutdown()
        super().closeEvent(event)
