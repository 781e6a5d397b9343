"""A stack of in-window notices (not modal dialogs): "no model installed", "no audio device", errors."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget


class NoticeLevel(Enum):
    """How a notice is coloured."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_STYLES = {
    NoticeLevel.INFO: "background: #e8f0fe; border: 1px solid #aac4f6; color: #1a1a1a;",
    NoticeLevel.WARNING: "background: #fff4d6; border: 1px solid #e6c15c; color: #1a1a1a;",
    NoticeLevel.ERROR: "background: #fde7e7; border: 1px solid #e89c9c; color: #1a1a1a;",
}


class _Notice(QFrame):
    def __init__(
        self,
        text: str,
        level: NoticeLevel,
        action: tuple[str, Callable[[], object]] | None,
        on_close: Callable[[], None] | None,
    ) -> None:
        super().__init__()
        self.setObjectName("notice")
        self.setStyleSheet(f"QFrame#notice {{ {_STYLES[level]} border-radius: 4px; }}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.button: QPushButton | None = None
        if action is not None:
            self.button = QPushButton(action[0])
            self.button.clicked.connect(action[1])
            layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        if on_close is not None:
            close = QToolButton()
            close.setText("✕")
            close.setToolTip("Dismiss")
            close.setAutoRaise(True)
            close.clicked.connect(on_close)
            layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)


class NoticeBar(QWidget):
    """Shows notices by key; showing a key again replaces its notice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 0)
        self._notices: dict[str, _Notice] = {}
        self.setVisible(False)

    def show_notice(
        self,
        key: str,
        text: str,
        level: NoticeLevel = NoticeLevel.INFO,
        action: tuple[str, Callable[[], object]] | None = None,
        dismissible: bool = False,
    ) -> None:
        """Show (or replace) the notice ``key``; ``text`` is rich text, ``action`` a (label, callback) button."""
        self.clear_notice(key)
        on_close = (lambda: self.clear_notice(key)) if dismissible else None
        notice = _Notice(text, level, action, on_close)
        self._notices[key] = notice
        self._layout.addWidget(notice)
        self.setVisible(True)

    def clear_notice(self, key: str) -> None:
        """Remove the notice ``key`` if shown."""
        notice = self._notices.pop(key, None)
        if notice is not None:
            self._layout.removeWidget(notice)
            notice.deleteLater()
        self.setVisible(bool(self._notices))

    def has_notice(self, key: str) -> bool:
        """Whether the notice ``key`` is shown."""
        return key in self._notices

    def notice_text(self, key: str) -> str:
        """The rich text of notice ``key`` ('' if not shown)."""
        notice = self._notices.get(key)
        return notice.label.text() if notice else ""

    def notice_button(self, key: str) -> QPushButton | None:
        """The action button of notice ``key``, if any."""
        notice = self._notices.get(key)
        return notice.button if notice else None
