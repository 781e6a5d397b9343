"""Choose the excerpt of a long file to work on (renders are of the excerpt only)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.core.clip import DEFAULT_EXCERPT_S


def _format(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


class ExcerptDialog(QDialog):
    """Start and duration, in seconds, within a file of ``duration_s``."""

    def __init__(self, name: str, duration_s: float, start_s: float = 0.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose an excerpt")
        self.duration_s = duration_s
        layout = QVBoxLayout(self)
        note = QLabel(
            f"<b>{name}</b> lasts {_format(duration_s)}. Rendering every condition of the whole file takes long; "
            "choose the part to compare."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.start_spin = QDoubleSpinBox()
        self.start_spin.setRange(0.0, max(duration_s - 1.0, 0.0))
        self.start_spin.setDecimals(1)
        self.start_spin.setSuffix(" s")
        self.start_spin.setValue(min(start_s, self.start_spin.maximum()))
        self.length_spin = QDoubleSpinBox()
        self.length_spin.setRange(1.0, duration_s)
        self.length_spin.setDecimals(1)
        self.length_spin.setSuffix(" s")
        self.length_spin.setValue(min(DEFAULT_EXCERPT_S, duration_s))
        form.addRow("Start", self.start_spin)
        form.addRow("Duration", self.length_spin)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Whole file")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def start_s(self) -> float:
        """Where the excerpt starts."""
        return float(self.start_spin.value())

    @property
    def length_s(self) -> float:
        """How long the excerpt lasts (clamped to the file's end)."""
        return float(min(self.length_spin.value(), self.duration_s - self.start_s))
