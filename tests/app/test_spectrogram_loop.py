"""The loop region on the spectrograms (offscreen): drawn by shift-drag or dragged on any of the three plots, it
reaches the waveform, the playback engine and the other plots, widened to the 0.5 s minimum, on a linear or log
frequency axis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyqtgraph as pg
import pytest
from app_testing import FAKE_DEVICE, FakeStream, write_tone
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.audio.engine import PlaybackEngine
from app.core.models import ModelCatalog
from app.main import Services, build_services, create_main_window, parse_args
from app.ui.main_window import MainWindow
from app.ui.spectrogram_view import SpectrogramView

pytestmark = pytest.mark.gui

RATE = 24_000
MOVE_INTERVAL_MS = 1000 // pg.getConfigOption("mouseRateLimit") + 2


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[MainWindow, Services]]:
    """The main window (no models) with a 3 s tone open."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
    services = build_services(catalog=ModelCatalog(lister=list), engine=engine)
    win = create_main_window(parse_args([]), services)
    qtbot.addWidget(win)
    win.resize(1200, 900)
    win.show()
    qtbot.waitExposed(win)
    clip = write_tone(tmp_path / "tone.wav", duration_s=3.0, sample_rate=RATE)
    win.open_file(clip)
    qtbot.waitUntil(lambda: win.state.clip is not None and win.spectrograms.original.shown is not None,
                    timeout=120_000)
    yield win, services
    win.close()
    services.close()


def _send(view: object, kind: QEvent.Type, scene_pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton,
          modifiers: Qt.KeyboardModifier) -> None:
    local = QPointF(view.mapFromScene(scene_pos))  # type: ignore[attr-defined]
    global_pos = QPointF(view.viewport().mapToGlobal(local.toPoint()))  # type: ignore[attr-defined]
    event = QMouseEvent(kind, local, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(view.viewport(), event)  # type: ignore[attr-defined]


def _drag(view: pg.GraphicsView, view_box: pg.ViewBox, from_s: float, to_s: float, *, shift: bool) -> None:
    """A left-button drag along the time axis at mid height of a plot, as real mouse events (hover, press, moves,
    release)."""
    low, high = view_box.viewRange()[1]
    mid = (low + high) / 2
    left, no_button = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    points = [view_box.mapViewToScene(QPointF(from_s + (to_s - from_s) * k / 4, mid)) for k in range(5)]
    _send(view, QEvent.Type.MouseMove, points[0], no_button, no_button, modifiers)
    _send(view, QEvent.Type.MouseButtonPress, points[0], left, left, modifiers)
    for point in points[1:]:
        QTest.qWait(MOVE_INTERVAL_MS)  # pyqtgraph drops mouse moves closer together than its rate limit
        _send(view, QEvent.Type.MouseMove, point, no_button, left, modifiers)
    _send(view, QEvent.Type.MouseButtonRelease, points[-1], left, no_button, modifiers)


def _drag_on(spectrograms: SpectrogramView, panel_index: int, from_s: float, to_s: float, *, shift: bool) -> None:
    _drag(spectrograms.graphics, spectrograms.panels[panel_index].plot.getViewBox(), from_s, to_s, shift=shift)


def _regions(win: MainWindow) -> list[tuple[float, float] | None]:
    regions = [tuple(p.loop.getRegion()) if p.loop.isVisible() else None for p in win.spectrograms.panels]
    return [win.waveform.loop, *regions]


def test_shift_drag_on_a_spectrogram_sets_the_loop_everywhere(window: tuple[MainWindow, Services]) -> None:
    win, services = window
    mixer = services.engine._mixer
    assert mixer is not None
    for log_frequency, panel, span in ((False, 1, (0.8, 2.2)), (True, 2, (0.4, 1.9))):
        win.spectrograms.set_log_frequency(log_frequency)
        _drag_on(win.spectrograms, panel, *span, shift=True)  # drawn on the codec, then the difference plot
        expected = pytest.approx(span, abs=0.02)
        assert all(region == expected for region in _regions(win)), log_frequency
        assert mixer.loop is not None and (mixer.loop[0] / RATE, mixer.loop[1] / RATE) == expected
    # Dragging the region's body (no shift) on the original's plot moves it everywhere.
    _drag_on(win.spectrograms, 0, 1.0, 1.4, shift=False)
    moved = pytest.approx((0.8, 2.3), abs=0.03)
    assert all(region == moved for region in _regions(win))
    assert (mixer.loop[0] / RATE, mixer.loop[1] / RATE) == moved


def test_a_short_loop_is_widened_and_the_waveform_gesture_reaches_the_spectrograms(
    window: tuple[MainWindow, Services],
) -> None:
    win, services = window
    mixer = services.engine._mixer
    assert mixer is not None
    _drag_on(win.spectrograms, 0, 1.0, 1.2, shift=True)
    widened = pytest.approx((1.0, 1.5), abs=0.02)
    assert all(region == widened for region in _regions(win))
    assert mixer.loop is not None and mixer.loop[1] - mixer.loop[0] == RATE // 2
    # Dragging an edge inwards to under 0.5 s is widened again.
    edge = win.spectrograms.original.loop.lines[1]
    edge.setValue(1.1)
    edge.sigPositionChangeFinished.emit(edge)
    assert all(region == widened for region in _regions(win))
    # Shift-drag starting inside the region draws a new one (the region hands the drag to the plot).
    _drag_on(win.spectrograms, 0, 1.2, 2.5, shift=True)
    assert all(region == pytest.approx((1.2, 2.5), abs=0.02) for region in _regions(win))
    # The same gesture on the waveform, right to left.
    _drag(win.waveform.plot, win.waveform.plot.getPlotItem().getViewBox(), 2.9, 2.0, shift=True)
    assert all(region == pytest.approx((2.0, 2.9), abs=0.02) for region in _regions(win))
    win.clear_loop()
    assert _regions(win) == [None] * 4 and mixer.loop is None
