"""The main window end to end (offscreen): open, model notice, background renders, condition keys, drag and drop."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from app_testing import FAKE_DEVICE, FakeStream, write_tone
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.audio.engine import PlaybackEngine
from app.core.models import ModelCatalog
from app.main import Services, build_services, create_main_window, parse_args
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

MakeWindow = Callable[..., tuple[MainWindow, Services]]


FAST_METRICS = ("mel_distance", "si_sdr")


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeWindow]:
    """Windows on a fake audio device, with settings in a temporary folder and only the fast metrics."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))
    made: list[tuple[MainWindow, Services]] = []

    def make(argv: Sequence[str], engine: PlaybackEngine | None = None) -> tuple[MainWindow, Services]:
        catalog = ModelCatalog(lister=list)  # a machine with no installed model
        engine = engine or PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
        services = build_services(catalog=catalog, engine=engine)
        args = parse_args(list(argv))
        file, args.file = args.file, None
        window = create_main_window(args, services)
        window.workspace.metrics = FAST_METRICS
        if file is not None:
            window.open_file(file)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append((window, services))
        return window, services

    yield make
    for window, services in made:
        window.close()
        services.close()


def wait_for_clip(qtbot: QtBot, window: MainWindow, name: str) -> None:
    qtbot.waitUntil(lambda: window.state.clip is not None and window.state.clip.name == name, timeout=10_000)


def test_opens_the_file_given_on_the_command_line(qtbot: QtBot, make_window: MakeWindow, tone_file: Path) -> None:
    window, services = make_window([str(tone_file)])
    wait_for_clip(qtbot, window, "tone.wav")
    assert "tone.wav" in window.clip_label.text() and "24000 Hz" in window.clip_label.text()
    assert "1 ch" in window.clip_label.text() and "0.50 s" in window.clip_label.text()
    assert services.engine.num_samples == 12_000 and window.toolbar.play_action.isEnabled()
    assert [spec.label for spec in window.workspace.conditions.specs] == ["Opus @ 12 kbps"]  # no model installed


def test_no_trained_model_shows_a_notice_and_disables_render(
    qtbot: QtBot, make_window: MakeWindow, tone_file: Path
) -> None:
    window, services = make_window([str(tone_file)])
    wait_for_clip(qtbot, window, "tone.wav")
    qtbot.waitUntil(lambda: window.notices.has_notice("no-model"))
    text = window.notices.notice_text("no-model")
    assert "No trained codec model" in text and "encodec_24khz-d7cc33bc.th" in text
    assert "encodec_48khz-7e698e3e.th" in text and "~/.cache/torch/hub/checkpoints/" in text
    assert window.notices.isVisible() and window.notices.notice_button("no-model") is not None
    assert not window.toolbar.add_action.isEnabled()
    window.toolbar.play_action.trigger()  # the original still plays
    stream = services.engine._stream
    assert stream is not None and stream.active
    stream.pump(2)
    assert services.engine.is_playing


def test_default_conditions_render_then_switch_with_keys(
    qtbot: QtBot, make_window: MakeWindow, tone_file: Path, random_checkpoint: Path
) -> None:
    window, services = make_window(["--model", str(random_checkpoint)])
    qtbot.waitUntil(lambda: window.toolbar.model_id is not None, timeout=20_000)
    window.open_file(tone_file)
    wait_for_clip(qtbot, window, "tone.wav")
    assert not window.notices.has_notice("no-model")
    labels = [spec.label for spec in window.workspace.conditions.specs]
    assert [label.split(" @ ")[-1] for label in labels] == ["1.5 kbps", "6 kbps", "24 kbps", "12 kbps"]
    assert labels[-1] == "Opus @ 12 kbps" and window.workspace.rendering
    assert window.progress.isVisible() and window.toolbar.render_action.text() == "Cancel"
    qtbot.waitUntil(lambda: not window.workspace.rendering, timeout=60_000)
    assert all(a is not None for a in window.workspace.conditions.analyses())
    assert services.engine.num_sources == 5 and window.actions_.conditions[3].isEnabled()
    assert not window.actions_.conditions[4].isEnabled() and not window.progress.isVisible()
    assert window.table.selected_row() == 0  # the first finished row is shown
    assert not window.notices.has_notice("band-limit")  # a 24 kHz clip through a 24 kHz model

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    stream = services.engine._stream
    assert stream is not None and stream.active
    stream.pump(4)
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert services.engine.requested_source == 2 and window.table.selected_row() == 1
    assert "6 kbps" in window.toolbar.source_label.text() and not window.toolbar.original_action.isChecked()
    stream.pump(4)
    assert services.engine.active_source == 2
    qtbot.keyClick(window, Qt.Key.Key_4)
    stream.pump(4)
    assert services.engine.active_source == 4 and "Opus" in window.toolbar.source_label.text()
    qtbot.keyClick(window, Qt.Key.Key_0)
    stream.pump(4)
    assert services.engine.active_source == 0 and window.toolbar.original_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_3)
    qtbot.keyClick(window, Qt.Key.Key_R)
    stream.pump(4)
    assert services.engine.active_source == 0
    assert services.engine.position_samples == 20 * 256  # one shared index ran on through every switch
    qtbot.keyClick(window, Qt.Key.Key_Space)
    stream.pump(2)
    assert not services.engine.is_playing


def test_a_24khz_model_on_a_48khz_clip_says_it_is_band_limited(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path, random_checkpoint: Path
) -> None:
    clip = write_tone(tmp_path / "wide.wav", sample_rate=48_000, duration_s=0.3)
    window, services = make_window(["--model", str(random_checkpoint)])
    qtbot.waitUntil(lambda: window.toolbar.model_id is not None, timeout=20_000)
    window.settings.set_anchors_by_default(False)
    window.open_file(clip)
    wait_for_clip(qtbot, window, "wide.wav")
    window.workspace.replace_specs(window.workspace.conditions.specs[1:2])  # just 6 kbps
    qtbot.waitUntil(lambda: window.workspace.analysis(0) is not None, timeout=30_000)
    qtbot.waitUntil(lambda: window.notices.has_notice("band-limit"), timeout=10_000)
    assert "nothing above 12 kHz" in window.notices.notice_text("band-limit")
    assert window.spectrograms.band_limit_hz == 12_000
    assert services.engine.sample_rate == 48_000  # played at the original's rate


def test_drop_a_file_onto_the_window(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    window, _ = make_window([])
    path = write_tone(tmp_path / "dropped.flac", duration_s=0.3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        enter = QDragEnterEvent(QPointF(10, 10), *args)  # PySide6 >= 6.12 (the QPoint form is deprecated there)
    except TypeError:
        enter = QDragEnterEvent(QPoint(10, 10), *args)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    wait_for_clip(qtbot, window, "dropped.flac")


def test_file_open_dialog_and_seek(
    qtbot: QtBot, make_window: MakeWindow, tone_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, services = make_window([])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(tone_file), ""))
    window.open_action.trigger()
    wait_for_clip(qtbot, window, "tone.wav")
    window.waveform.seek_requested.emit(0.25)
    assert services.engine.position_samples == 6000
    qtbot.waitUntil(lambda: window.waveform.playhead_s == pytest.approx(0.25))


def test_unreadable_file_shows_an_error_notice(qtbot: QtBot, make_window: MakeWindow, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    window, _ = make_window([str(bad)])
    qtbot.waitUntil(lambda: window.notices.has_notice("load-error"))
    assert "bad.wav" in window.notices.notice_text("load-error") and window.state.clip is None


def test_no_audio_device_shows_a_notice(qtbot: QtBot, make_window: MakeWindow, tone_file: Path) -> None:
    engine = PlaybackEngine(None, unavailable_reason="No audio output device was found.")
    window, _ = make_window([str(tone_file)], engine=engine)
    assert "No audio output device" in window.notices.notice_text("no-audio")
    wait_for_clip(qtbot, window, "tone.wav")
    assert not window.toolbar.play_action.isEnabled()  # the rest (waveform, render) still works
