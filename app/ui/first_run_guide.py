"""The short keyboard guide shown on first start (non-modal), and the first-run flag behind it.

The guide never blocks the window: it is a tool window beside it that closes with a click or Escape and
reopens from *Help › Keyboard guide*.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

#: QSettings key set once the first run has been handled.
FIRST_RUN_DONE_KEY = "first_run/done"

#: (keys, what they do), in the order the guide lists them.
KEY_GUIDE: tuple[tuple[str, str], ...] = (
    ("Space", "play / pause"),
    ("0 or R", "hear the original"),
    ("1 to 9", "hear condition 1 to 9 (same position, no gap)"),
    ("L", "mark the loop's start, then its end; a third press clears it"),
    ("Left / Right", "seek back / forward"),
    ("F", "logarithmic / linear frequency axis of the spectrograms"),
    ("F1", "show this guide again (Help > Keyboard guide)"),
)

INTRO = (
    "The example clip is open with a few conditions: EarBench's model at low, middle and high bitrates and Opus "
    "for reference. Start playback and switch between them while it plays."
)


def is_first_run(settings: QSettings) -> bool:
    """True until :func:`mark_first_run_done` has been called with the same settings."""
    return not _as_bool(settings.value(FIRST_RUN_DONE_KEY, False))


def mark_first_run_done(settings: QSettings) -> None:
    """Record that the first run has been handled (the guide is not shown by itself again)."""
    settings.setValue(FIRST_RUN_DONE_KEY, True)
    settings.sync()


def _as_bool(value: object) -> bool:
    # INI-backed QSettings give back "true"/"false" strings.
    return value is True or str(value).lower() in ("true", "1")


def guide_html() -> str:
    """The guide's text: the intro and a table of keys."""
    rows = "".join(
        f"<tr><td><b>{html.escape(keys)}</b>&nbsp;&nbsp;&nbsp;</td><td>{html.escape(action)}</td></tr>"
        for keys, action in KEY_GUIDE
    )
    return f"<p>{html.escape(INTRO)}</p><table>{rows}</table>"


class KeyGuide(QDialog):
    """A non-modal guide to the keys; closing it only hides it, so it can be shown again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("EarBench keys")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setWindowFlag(Qt.WindowType.Tool)
        self.label = QLabel(guide_html())
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def show_beside_parent(self) -> None:
        """Show (or raise) the guide at the parent's top-right corner, without taking the keyboard from it."""
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        parent = self.parentWidget()
        if parent is not None and not self.isVisible():
            corner = parent.geometry().topRight()
            self.adjustSize()
            self.move(max(corner.x() - self.width() - 24, 0), corner.y() + 80)
        self.show()
        self.raise_()
