"""The main window's File, Conditions, Playback and View menus; every action shows its shortcut.

The menus only hold actions; :class:`MainWindow` connects them. Window-wide shortcuts (digits, arrows, L) are
actions added to the window, so they work wherever the focus is (the table and combos never take it).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from app.core.conditions import MAX_KEYED_ROWS
from app.ui.audition_toolbar import AuditionToolbar

SEEK_STEP_S = 1.0
SEEK_BIG_STEP_S = 5.0
#: View › Logarithmic frequency axis (F for frequency; a bare key like L, as the window takes no text input).
LOG_FREQUENCY_KEY = "F"


@dataclass
class WindowActions:
    """The actions the window connects (menus own them)."""

    open: QAction
    recent_menu: QMenu
    open_model: QAction
    excerpt: QAction
    export_audio: QAction
    export_ecdc: QAction
    export_csv: QAction
    export_png: QAction
    preferences: QAction
    quit: QAction
    add_conditions: QAction
    remove_condition: QAction
    visqol: QAction
    conditions: tuple[QAction, ...]
    set_loop: QAction
    clear_loop: QAction
    seek_back: QAction
    seek_forward: QAction
    seek_back_big: QAction
    seek_forward_big: QAction
    log_frequency: QAction


def _add(menu: QMenu, text: str, shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:
    action = menu.addAction(text)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action


def build_menus(window: QMainWindow, toolbar: AuditionToolbar) -> WindowActions:
    """Add File, Conditions, Playback and View menus to ``window``'s menu bar (call before adding Help)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    open_action = _add(file_menu, "&Open…", QKeySequence.StandardKey.Open)
    recent_menu = file_menu.addMenu("Open &recent")
    open_model = _add(file_menu, "Open &model file…", "Ctrl+M")
    excerpt = _add(file_menu, "Choose &excerpt…", "Ctrl+E")
    file_menu.addSeparator()
    export_menu = file_menu.addMenu("E&xport")
    export_audio = _add(export_menu, "Selected condition as &WAV/FLAC…", "Ctrl+S")
    export_ecdc = _add(export_menu, "Selected condition as .&ecdc stream…", "Ctrl+Shift+S")
    export_csv = _add(export_menu, "Metrics table as &CSV…", "Ctrl+Shift+C")
    export_png = _add(export_menu, "Spectrogram comparison as &PNG…", "Ctrl+Shift+P")
    file_menu.addSeparator()
    preferences = _add(file_menu, "&Preferences…", QKeySequence.StandardKey.Preferences)
    if preferences.shortcut().isEmpty():  # no platform default on some desktops
        preferences.setShortcut(QKeySequence("Ctrl+,"))
    quit_action = _add(file_menu, "&Quit", QKeySequence.StandardKey.Quit)

    conditions_menu = bar.addMenu("&Conditions")
    conditions_menu.addAction(toolbar.render_action)
    conditions_menu.addAction(toolbar.add_action)
    add_conditions = _add(conditions_menu, "Add &conditions…", "Ctrl+Shift+N")
    remove_condition = _add(conditions_menu, "&Remove selected condition", "Delete")
    conditions_menu.addSeparator()
    visqol = _add(conditions_menu, "Compute &ViSQOL for all rows", "Ctrl+Shift+V")

    play_menu = bar.addMenu("&Playback")
    play_menu.addAction(toolbar.play_action)
    play_menu.addAction(toolbar.original_action)
    hear_menu = play_menu.addMenu("&Hear condition")
    conditions = tuple(_add(hear_menu, f"Condition &{n}", str(n)) for n in range(1, MAX_KEYED_ROWS + 1))
    play_menu.addSeparator()
    set_loop = _add(play_menu, "Set &loop in / out / off", "L")
    clear_loop = _add(play_menu, "&Clear loop", "Shift+L")
    play_menu.addSeparator()
    seek_back = _add(play_menu, f"Seek back {SEEK_STEP_S:g} s", "Left")
    seek_forward = _add(play_menu, f"Seek forward {SEEK_STEP_S:g} s", "Right")
    seek_back_big = _add(play_menu, f"Seek back {SEEK_BIG_STEP_S:g} s", "Shift+Left")
    seek_forward_big = _add(play_menu, f"Seek forward {SEEK_BIG_STEP_S:g} s", "Shift+Right")

    view_menu = bar.addMenu("&View")
    log_frequency = _add(view_menu, "&Logarithmic frequency axis", LOG_FREQUENCY_KEY)
    log_frequency.setCheckable(True)
    return WindowActions(
        open=open_action,
        recent_menu=recent_menu,
        open_model=open_model,
        excerpt=excerpt,
        export_audio=export_audio,
        export_ecdc=export_ecdc,
        export_csv=export_csv,
        export_png=export_png,
        preferences=preferences,
        quit=quit_action,
        add_conditions=add_conditions,
        remove_condition=remove_condition,
        visqol=visqol,
        conditions=conditions,
        set_loop=set_loop,
        clear_loop=clear_loop,
        seek_back=seek_back,
        seek_forward=seek_forward,
        seek_back_big=seek_back_big,
        seek_forward_big=seek_forward_big,
        log_frequency=log_frequency,
    )
