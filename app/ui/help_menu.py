"""The Help menu: the keyboard guide (F1) and the About box, created on first use."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.ui.about_dialog import AboutDialog
from app.ui.first_run_guide import KeyGuide


class HelpMenu:
    """Adds *Help › Keyboard guide* and *Help › About EarBench* to ``window``'s menu bar.

    Parameters
    ----------
    window : QMainWindow
        The window that owns the menu and parents the dialogs.
    """

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.guide: KeyGuide | None = None
        self.about: AboutDialog | None = None
        menu = window.menuBar().addMenu("&Help")
        self.guide_action = menu.addAction("&Keyboard guide", QKeySequence.StandardKey.HelpContents, self.show_guide)
        self.about_action = menu.addAction("&About EarBench", self.show_about)

    def show_guide(self) -> KeyGuide:
        """Show the non-modal keyboard guide (built once, then re-shown)."""
        if self.guide is None:
            self.guide = KeyGuide(self.window)
        self.guide.show_beside_parent()
        return self.guide

    def show_about(self) -> AboutDialog:
        """Open the About box (non-blocking)."""
        if self.about is None:
            self.about = AboutDialog(self.window)
        self.about.open()
        return self.about
