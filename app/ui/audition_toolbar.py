"""The audition toolbar: model and bitrate (Add puts them in the conditions), Render all, Play/Stop, Original."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from app.core.models import ModelEntry


class AuditionToolbar(QToolBar):
    """Controls for choosing what to render and what to hear; holds no state beyond its widgets.

    Signals
    -------
    selection_changed(object, object)
        (model_id or None, bitrate_kbps or None) after the user picks a model or a bitrate.
    render_clicked()
        Render (or Cancel, while a render runs) was pressed.
    add_clicked()
        Add (the model at the bitrate, as a condition) was pressed.
    """

    selection_changed = Signal(object, object)
    render_clicked = Signal()
    add_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Audition", parent)
        self.setObjectName("audition_toolbar")
        self.setMovable(False)
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(22)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setToolTip("Codec model")
        self.bitrate_combo = QComboBox()
        self.bitrate_combo.setToolTip("Bitrate")
        for combo in (self.model_combo, self.bitrate_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keep Space, digits and arrows for the shortcuts
        self.addWidget(QLabel(" Model "))
        self.addWidget(self.model_combo)
        self.addWidget(QLabel(" Bitrate "))
        self.addWidget(self.bitrate_combo)
        self.add_action = self._action("Add", "Ctrl+Shift+A", "Add the model at this bitrate to the conditions")
        self.render_action = self._action("Render all", "Ctrl+R", "Render every condition not rendered yet")
        self.addSeparator()
        self.play_action = self._action("Play", "Space", "Play or stop")
        self.addSeparator()
        self.original_action = self._action("Original", "0", "Hear the original (0 or R)", checkable=True)
        self.original_action.setShortcuts([QKeySequence("0"), QKeySequence("R")])
        self.original_action.setChecked(True)
        self.source_label = QLabel()
        self.source_label.setMinimumWidth(160)
        self.addWidget(self.source_label)
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(150)
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.addSeparator()
        self.addWidget(self.position_label)
        self.render_action.triggered.connect(self.render_clicked)
        self.add_action.triggered.connect(self.add_clicked)
        self.model_combo.activated.connect(self._on_model_activated)
        self.bitrate_combo.activated.connect(self._emit_selection)
        self._models: tuple[ModelEntry, ...] = ()

    def _action(self, text: str, shortcut: str, tip: str, checkable: bool = False) -> QAction:
        action = self.addAction(text)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.setCheckable(checkable)
        return action

    # ------------------------------------------------------------------ models
    def set_models(self, entries: Sequence[ModelEntry], current_id: str | None) -> None:
        """Fill the model combo; select ``current_id`` (else the first entry)."""
        self._models = tuple(entries)
        self.model_combo.clear()
        for entry in self._models:
            self.model_combo.addItem(entry.display_name, entry.model_id)
        if not self._models:
            self.model_combo.addItem("No model installed", None)
        ids = [entry.model_id for entry in self._models]
        self.model_combo.setCurrentIndex(ids.index(current_id) if current_id in ids else 0)
        self._fill_bitrates()

    def show_models_pending(self) -> None:
        """Say that models are being looked for."""
        self.model_combo.clear()
        self.model_combo.addItem("Looking for models…", None)
        self.bitrate_combo.clear()

    @property
    def model_id(self) -> str | None:
        """The selected model's id."""
        return self.model_combo.currentData()

    @property
    def bitrate_kbps(self) -> float | None:
        """The selected bitrate."""
        return self.bitrate_combo.currentData()

    def _entry(self) -> ModelEntry | None:
        return next((e for e in self._models if e.model_id == self.model_id), None)

    def _fill_bitrates(self) -> None:
        previous = self.bitrate_kbps
        entry = self._entry()
        self.bitrate_combo.clear()
        if entry is None:
            return
        for bitrate in entry.bitrates_kbps:
            self.bitrate_combo.addItem(f"{bitrate:g} kbps", bitrate)
        wanted = previous if previous in entry.bitrates_kbps else entry.default_bitrate_kbps
        self.bitrate_combo.setCurrentIndex(entry.bitrates_kbps.index(wanted))

    def _on_model_activated(self, _index: int) -> None:
        self._fill_bitrates()
        self._emit_selection()

    def _emit_selection(self, *_args: object) -> None:
        self.selection_changed.emit(self.model_id, self.bitrate_kbps)

    # ------------------------------------------------------------------- state
    def set_render_state(self, enabled: bool, rendering: bool) -> None:
        """Enable Render all; while ``rendering`` it reads Cancel."""
        self.render_action.setText("Cancel" if rendering else "Render all")
        self.render_action.setEnabled(enabled or rendering)

    def set_add_enabled(self, enabled: bool) -> None:
        """Enable Add (a model and bitrate are chosen)."""
        self.add_action.setEnabled(enabled)

    def set_playback_enabled(self, enabled: bool) -> None:
        """Enable Play and Original (there is audio and a device)."""
        self.play_action.setEnabled(enabled)
        self.original_action.setEnabled(enabled)

    def set_playing(self, playing: bool) -> None:
        """Show Play or Stop."""
        self.play_action.setText("Stop" if playing else "Play")

    def set_source_text(self, text: str, original: bool) -> None:
        """Say what is being heard; check Original when it is the original."""
        self.source_label.setText(f"  Hearing: {text}")
        self.original_action.setChecked(original)

    def set_position_text(self, text: str) -> None:
        """Show the play head position."""
        self.position_label.setText(text)
