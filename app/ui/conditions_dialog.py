"""A dialog to add conditions: the selected model at several bitrates, Opus and MP3 at chosen bitrates, anchors."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.conditions import ANCHOR, ANCHOR_CUTOFFS_KHZ, MP3, OPUS, ConditionSpec, model_condition
from app.core.models import ModelEntry


def parse_bitrates(text: str) -> list[float]:
    """``"6, 12 24"`` -> [6.0, 12.0, 24.0]; raises ValueError naming the bad entry."""
    values = []
    for part in text.replace(",", " ").split():
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a bitrate in kbps") from None
        if not value > 0:
            raise ValueError(f"bitrates must be positive, got {part}")
        values.append(value)
    return values


class AddConditionsDialog(QDialog):
    """Checkboxes for the model's bitrates and anchors, free bitrate lists for Opus and MP3."""

    def __init__(self, entry: ModelEntry | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add conditions")
        self.entry = entry
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.model_boxes: dict[float, QCheckBox] = {}
        row = QHBoxLayout()
        if entry is None:
            row.addWidget(QLabel("(no model)"))
        else:
            for bitrate in entry.bitrates_kbps:
                box = QCheckBox(f"{bitrate:g}")
                self.model_boxes[bitrate] = box
                row.addWidget(box)
        form.addRow(f"{entry.display_name if entry else 'Model'} (kbps)", row)
        self.opus_edit = QLineEdit()
        self.opus_edit.setPlaceholderText("e.g. 6 12 24 (6-510)")
        form.addRow("Opus (kbps)", self.opus_edit)
        self.mp3_edit = QLineEdit()
        self.mp3_edit.setPlaceholderText("e.g. 32 64 (8-320)")
        form.addRow("MP3 (kbps)", self.mp3_edit)
        anchors = QHBoxLayout()
        self.anchor_boxes = {cutoff: QCheckBox(f"{cutoff:g} kHz low-pass") for cutoff in ANCHOR_CUTOFFS_KHZ}
        for box in self.anchor_boxes.values():
            anchors.addWidget(box)
        form.addRow("Anchors", anchors)
        layout.addLayout(form)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020")
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def specs(self) -> list[ConditionSpec]:
        """The conditions chosen; raises ValueError for a bad bitrate list."""
        specs: list[ConditionSpec] = []
        if self.entry is not None:
            specs += [model_condition(self.entry, b) for b, box in self.model_boxes.items() if box.isChecked()]
        specs += [ConditionSpec(OPUS, b) for b in parse_bitrates(self.opus_edit.text())]
        specs += [ConditionSpec(MP3, b) for b in parse_bitrates(self.mp3_edit.text())]
        specs += [ConditionSpec(ANCHOR, c) for c, box in self.anchor_boxes.items() if box.isChecked()]
        return specs

    def _accept_if_valid(self) -> None:
        try:
            self.specs()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        self.accept()
