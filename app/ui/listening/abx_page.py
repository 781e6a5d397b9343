"""An ABX trial: A (the reference) and B (the condition) are known, X is one of them, redrawn every trial.

The listener plays A, B and X (buttons or keys A/B/X) as often as they like, then answers "X is A" or "X is B"
(or "Don't know" when the design allows it; stored apart from forced choices). The trial counter shows "n of N";
the running score stays hidden unless the design shows it (looking at it and stopping early inflates false
positives, spec §1.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.listening.pages import DONT_KNOW, PageView
from app.core.listening.session import Session
from app.ui.listening.page_base import PageWidget
from app.ui.listening.player import PagePlayer

CHOICE_TEXT = {"A": "X is A", "B": "X is B", DONT_KNOW: "Don't know", "left": "Prefer 1", "right": "Prefer 2"}


class ChoicePage(PageWidget):
    """Play buttons plus exclusive answer buttons; the base of :class:`AbxPage` and :class:`AbPage`."""

    PLAY_KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({})
    HINT = ""

    def __init__(self, session: Session, player: PagePlayer, parent: QWidget | None = None) -> None:
        super().__init__(session, player, parent)
        layout = QVBoxLayout(self)
        self.counter = QLabel()
        self.counter.setObjectName("trial_counter")
        self.score = QLabel()
        self.score.setObjectName("running_score")
        hint = QLabel(self.HINT)
        hint.setWordWrap(True)
        self.play_row = QHBoxLayout()
        self.answer_row = QHBoxLayout()
        for widget in (self.counter, hint):
            layout.addWidget(widget)
        layout.addLayout(self.play_row)
        layout.addLayout(self.answer_row)
        layout.addWidget(self.score)
        layout.addStretch(1)
        self.answer_buttons: dict[str, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)

    def show_page(self, view: PageView) -> None:
        super().show_page(view)
        self.counter.setText(f"Trial {view.trial + 1} of {view.n_trials}")
        self._clear(self.play_row)
        self._clear(self.answer_row)
        self.clear_buttons()
        for stimulus in view.stimuli:
            self.play_row.addWidget(self.play_button(stimulus.key, stimulus.label))
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.answer_buttons = {}
        for choice in view.choices:
            button = QPushButton(CHOICE_TEXT.get(choice, choice))
            button.setObjectName(f"answer_{choice}")
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, c=choice: self._answer(c))
            self._group.addButton(button)
            self.answer_buttons[choice] = button
            self.answer_row.addWidget(button)
        score = self.session.running_score
        self.score.setVisible(score is not None)
        if score is not None:
            self.score.setText(f"Score so far: {score[0]} of {score[1]} correct")

    def key_for(self, text: str) -> str | None:
        return self.PLAY_KEYS.get(text.lower())

    def _answer(self, choice: str) -> None:
        self.session.answer(choice)
        self.changed.emit()

    @staticmethod
    def _clear(layout: QHBoxLayout) -> None:
        while layout.count():
            widget = layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()


class AbxPage(ChoicePage):
    PLAY_KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({"a": "A", "b": "B", "x": "X"})
    HINT = "Play A, B and X (keys A, B, X) as often as you like, then say which one X is."


class AbPage(ChoicePage):
    """AB preference: two signals "1" and "2" (sides randomised), the listener says which they prefer."""

    PLAY_KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({"1": "left", "2": "right"})
    HINT = "Play 1 and 2 (keys 1, 2) as often as you like, then choose the one you prefer."
