"""Preferences: audio output device and buffer size, the spectra's colour map, anchors in the default set."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from app.audio.devices import OutputDevice
from app.ui.app_settings import BLOCKSIZES, COLORMAPS


class PreferencesDialog(QDialog):
    """Shows the current choices; read them back after ``accept``."""

    def __init__(
        self,
        devices: Sequence[OutputDevice],
        device_problem: str | None,
        current_device: str,
        blocksize: int,
        colormap: str,
        anchors: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.device_combo = QComboBox()
        self.device_combo.addItem("System default", "")
        for device in devices:
            self.device_combo.addItem(device.label, device.label)
        found = self.device_combo.findData(current_device)
        self.device_combo.setCurrentIndex(max(found, 0))
        form.addRow("Output device", self.device_combo)
        if device_problem:
            problem = QLabel(device_problem)
            problem.setWordWrap(True)
            form.addRow("", problem)
        self.blocksize_combo = QComboBox()
        for frames in BLOCKSIZES:
            self.blocksize_combo.addItem(f"{frames} frames", frames)
        self.blocksize_combo.setCurrentIndex(max(self.blocksize_combo.findData(blocksize), 0))
        self.blocksize_combo.setToolTip("Larger buffers avoid crackles on busy machines; smaller ones react faster")
        form.addRow("Buffer size", self.blocksize_combo)
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(list(COLORMAPS))
        self.colormap_combo.setCurrentText(colormap)
        form.addRow("Spectrogram colours", self.colormap_combo)
        self.anchors_box = QCheckBox("Add the 3.5 and 7 kHz anchors to a new file's conditions")
        self.anchors_box.setChecked(anchors)
        form.addRow("Conditions", self.anchors_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def device_label(self) -> str:
        """The chosen device's label ('' for the system default)."""
        return str(self.device_combo.currentData())

    @property
    def blocksize(self) -> int:
        return int(self.blocksize_combo.currentData())

    @property
    def colormap(self) -> str:
        return self.colormap_combo.currentText()

    @property
    def anchors(self) -> bool:
        return self.anchors_box.isChecked()
