"""Choosing the codec model in the main window: the catalog scan, File › Open model file…, and the toolbar's choice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from app.core.conditions import default_model_bitrates, model_condition
from app.core.models import OFFICIAL_CHECKPOINT_DIR, OFFICIAL_CHECKPOINTS, ModelEntry
from app.ui.notices import NoticeLevel

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

MODEL_FILTER = "Codec checkpoints (*.th *.pt *.pth *.ckpt *.safetensors);;All files (*)"
NO_MODEL_NOTICE = (
    "<b>No trained codec model is installed</b>, so nothing can be rendered yet (the original still plays). "
    "Put an official EnCodec checkpoint ({files}) in <code>{folder}</code> and restart, "
    "or choose a checkpoint file with <i>File &rsaquo; Open model file…</i>"
)


class WindowModels(QObject):
    """Keeps the toolbar's model list in step with the window's :class:`~app.core.models.ModelCatalog`.

    Scans and checkpoint loads run on the window's job runner. Choosing another model in the toolbar moves the
    clip's model conditions to it ("the selected model"), or adds its default bitrates when there are none.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # a child: Qt drops its connections when the window is deleted
        self.window = window

    def refresh(self) -> None:
        """Look for installed trained models in the background."""
        window = self.window
        window.toolbar.show_models_pending()
        window.runner.submit("models", lambda context: window.catalog.refresh(), self._on_models, self._on_failed)

    def choose_file(self) -> None:
        """Ask for a checkpoint file and offer it as a model."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model file", "", MODEL_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Load a checkpoint in the background and select it when ready."""
        window = self.window
        window.busy_label.setText(f"Loading {Path(path).name}…")
        window.runner.submit(
            "model-file",
            lambda context: window.catalog.add_file(path),
            self._on_file,
            lambda exc: window.show_error("model-error", f"Cannot use {Path(path).name} as a model: {exc}"),
        )

    def _on_models(self, entries: tuple[ModelEntry, ...]) -> None:
        self.show(self.window.state.model_id)

    def _on_failed(self, exc: Exception) -> None:
        self.window.show_error("model-error", str(exc))
        self.show(self.window.state.model_id)

    def _on_file(self, entry: ModelEntry) -> None:
        self.window.notices.clear_notice("model-error")
        self.show(entry.model_id)

    def show(self, current_id: str | None) -> None:
        """List the catalog's models in the toolbar (``current_id`` selected) or say that none is installed."""
        window = self.window
        entries = window.catalog.entries()
        window.toolbar.set_models(entries, current_id)
        if entries or window.runner.is_busy("model-file"):
            window.notices.clear_notice("no-model")
        else:
            files = " or ".join(f"<code>{name}</code>" for name in OFFICIAL_CHECKPOINTS)
            window.notices.show_notice(
                "no-model",
                NO_MODEL_NOTICE.format(files=files, folder=OFFICIAL_CHECKPOINT_DIR),
                NoticeLevel.WARNING,
                action=("Open model file…", self.choose_file),
            )
        self.on_selection_changed(window.toolbar.model_id, window.toolbar.bitrate_kbps)

    def on_selection_changed(self, model_id: str | None, bitrate_kbps: float | None) -> None:
        """The toolbar's model or bitrate changed: a new model takes over the clip's model conditions."""
        window = self.window
        model_changed = model_id != window.state.model_id
        window.state.select(model_id, bitrate_kbps)
        entry = self.selected_entry()
        if model_changed and entry is not None and window.state.clip is not None:
            conditions = window.workspace.conditions
            if conditions.has_model_rows():
                conditions.replace_model(entry)  # "the selected model": its rows follow the combo
                window.workspace.replace_specs(conditions.specs)
            else:
                window.workspace.add([model_condition(entry, b) for b in default_model_bitrates(entry)])
        window.update_controls()

    def selected_entry(self) -> ModelEntry | None:
        """The catalog entry of the toolbar's model, or ``None`` when none is chosen (or it has gone)."""
        model_id = self.window.state.model_id
        return next((e for e in self.window.catalog.entries() if e.model_id == model_id), None)
