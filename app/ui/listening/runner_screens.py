"""The runner window's screens around the session: the start form before it and the thank-you page after it.

The listener's pages in between are :mod:`app.ui.listening.session_screen`. These screens only hold widgets: the
window (:class:`~app.ui.listening.runner.TestRunnerWindow`) connects them and decides what they show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

TRANSDUCERS = ("headphones", "loudspeakers")


class StartScreen(QWidget):
    """Open a design or a bundle, name the listener, say what they listen with, and start (or resume).

    Parameters
    ----------
    busy_label, busy_bar : QLabel, QProgressBar
        Shown under "Start / resume" while the MUSHRA anchors render (see
        :class:`~app.ui.listening.anchor_preparation.AnchorPreparation`).
    """

    def __init__(self, busy_label: QLabel, busy_bar: QProgressBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        buttons = QHBoxLayout()
        self.open_design_button = QPushButton("Open design…")
        self.open_bundle_button = QPushButton("Open bundle…")
        buttons.addWidget(self.open_design_button)
        buttons.addWidget(self.open_bundle_button)
        self.test_label = QLabel("No test opened")
        self.test_label.setWordWrap(True)
        self.listener_edit = QLineEdit()
        self.listener_edit.setPlaceholderText("your name or listener ID")
        self.transducer_combo = QComboBox()
        self.transducer_combo.addItems(TRANSDUCERS)
        self.start_button = QPushButton("Start / resume")
        self.start_button.setEnabled(False)
        form.addRow(buttons)
        form.addRow("Test:", self.test_label)
        form.addRow("Listener:", self.listener_edit)
        form.addRow("Listening with:", self.transducer_combo)
        form.addRow(self.start_button)
        form.addRow(busy_label)
        form.addRow(busy_bar)


class DoneScreen(QWidget):
    """The page shown once every answer is saved: a centred message (``label``) and a "Close" button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.close_button = QPushButton("Close")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignCenter)
