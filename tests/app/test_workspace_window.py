"""The audition workspace in the real window (offscreen): conditions, keys, loop, exports, responsiveness, sources."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from app_testing import FAKE_DEVICE, FakeStream, write_tone
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from app.audio.devices import DeviceScan
from app.audio.engine import PlaybackEngine
from app.core.conditions import OPUS, ConditionSpec, model_condition
from app.core.models import ModelCatalog, ModelEntry
from app.main import Services, build_services, create_main_window, parse_args
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

DELAY_SAMPLES = 240  # 10 ms at 24 kHz


class DelayCodec:
    """Returns its input late by ``DELAY_SAMPLES`` (a codec with a known delay); ``sleep_s`` per call makes it slow."""

    name, sample_rate, channels, bitrates_kbps = "delay", 24_000, 1, (3.0, 6.0)

    def __init__(self, sleep_s: float = 0.0) -> None:
        self.sleep_s = sleep_s
        self.started = threading.Event()

    def reconstruct(self, audio: np.ndarray, sample_rate: int, bitrate_kbps: float, progress: Any = None) -> Any:
        self.started.set()
        steps = 20
        for step in range(steps):  # a slow codec reports progress between segments, where it may be cancelled
            time.sleep(self.sleep_s / steps)
            if progress is not None:
                progress(step + 1, steps)
        return np.pad(audio, ((0, 0), (DELAY_SAMPLES, 0)))[:, : audio.shape[1]]


def delay_entry(model_id: str = "delay") -> ModelEntry:
    return ModelEntry(model_id, f"Delay ({model_id})", model_id, 24_000, 1, (3.0, 6.0))


MakeWindow = Callable[..., tuple[MainWindow, Services]]


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeWindow]:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))
    made: list[tuple[MainWindow, Services]] = []

    def make(*codecs: tuple[ModelEntry, Any], argv: tuple[str, ...] = ()) -> tuple[MainWindow, Services]:
        catalog = ModelCatalog(lister=list)
        for entry, codec in codecs:
            catalog.register(entry, codec)
        engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
        services = build_services(catalog=catalog, engine=engine)
        window = create_main_window(parse_args(list(argv)), services)
        window.workspace.metrics = ("mel_distance", "si_sdr")
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        if codecs or "--model" in argv:
            qtbot.waitUntil(lambda: window.toolbar.model_id is not None, timeout=20_000)
        made.append((window, services))
        return window, services

    yield make
    for window, services in made:
        window.close()
        services.close()


def open_and_render(qtbot: QtBot, window: MainWindow, path: Path, specs: list[ConditionSpec]) -> None:
    window.open_file(path)
    qtbot.waitUntil(lambda: window.state.clip is not None and window.state.clip.path == path, timeout=10_000)
    window.workspace.replace_specs(specs)
    qtbot.waitUntil(lambda: not window.workspace.rendering, timeout=60_000)


def test_two_conditions_switch_loop_and_export(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path, random_checkpoint: Path
) -> None:
    window, services = make_window(argv=("--model", str(random_checkpoint)))
    clip_path = write_tone(tmp_path / "tone.wav", duration_s=1.5)
    entry = window.catalog.entries()[0]
    open_and_render(qtbot, window, clip_path, [model_condition(entry, 6.0), ConditionSpec(OPUS, 12.0)])
    model_row, opus_row = window.workspace.analysis(0), window.workspace.analysis(1)
    assert model_row is not None and opus_row is not None
    assert model_row.achieved_kbps == pytest.approx(6.0, rel=0.1) and opus_row.achieved_kbps == pytest.approx(12, 0.1)
    assert services.engine.num_sources == 3

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    stream = services.engine._stream
    assert stream is not None
    stream.pump(10)
    qtbot.keyClick(window, Qt.Key.Key_L)  # loop in at 10 blocks
    stream.pump(10)
    qtbot.keyClick(window, Qt.Key.Key_L)  # loop out 20 blocks later: widened to the 0.5 s minimum
    assert window.waveform.loop == pytest.approx((2560 / 24_000, 2560 / 24_000 + 0.5))
    assert services.engine._mixer is not None and services.engine._mixer.loop == (2560, 2560 + 12_000)
    assert window.spectrograms.original.loop.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_2)
    stream.pump(80)  # 20 480 samples: well past the loop end, so it wrapped
    assert services.engine.active_source == 2 and 2560 <= services.engine.position_samples < 14_560
    qtbot.keyClick(window, Qt.Key.Key_L)  # third press: loop off
    assert window.waveform.loop is None and services.engine._mixer.loop is None
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Space)

    saved = iter([tmp_path / "opus.wav", tmp_path / "model.flac", tmp_path / "table.csv", tmp_path / "spec.png"])
    window.exports.ask_path = lambda *args: str(next(saved))  # type: ignore[method-assign]
    window.table.select_row(1)
    assert window.exports.export_audio() == tmp_path / "opus.wav"
    audio, rate = sf.read(tmp_path / "opus.wav", dtype="float32", always_2d=True)
    assert rate == 24_000 and np.allclose(audio[:, 0], opus_row.audio[0], atol=1e-6)
    window.table.select_row(0)
    assert window.exports.export_audio() == tmp_path / "model.flac"
    assert sf.info(str(tmp_path / "model.flac")).frames == 36_000
    assert window.exports.export_csv() == tmp_path / "table.csv"
    with open(tmp_path / "table.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["Key", "Condition", "Requested kbps", "Achieved kbps"]
    assert [row[0] for row in rows[1:]] == ["1", "2"] and rows[2][1] == "Opus @ 12 kbps"
    assert window.exports.export_png() == tmp_path / "spec.png"
    assert not QImage(str(tmp_path / "spec.png")).isNull()

    window.exports.ask_path = lambda *args: str(tmp_path / "model.ecdc")  # type: ignore[method-assign]
    window.exports.export_ecdc()
    qtbot.waitUntil(lambda: window.exports.last_written == tmp_path / "model.ecdc", timeout=30_000)
    assert (tmp_path / "model.ecdc").read_bytes()[:4] == b"ECDC"


def test_window_stays_responsive_while_a_slow_codec_renders(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path
) -> None:
    slow = DelayCodec(sleep_s=1.5)
    window, _ = make_window((delay_entry(), slow))
    path = write_tone(tmp_path / "tone.wav", duration_s=0.5)
    ticks: list[bool] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(window.workspace.rendering))
    window.open_file(path)
    qtbot.waitUntil(lambda: window.state.clip is not None, timeout=10_000)
    window.workspace.replace_specs([model_condition(delay_entry(), 6.0)])
    timer.start()
    assert slow.started.wait(10)
    qtbot.waitUntil(lambda: not window.workspace.rendering, timeout=30_000)
    timer.stop()
    assert ticks.count(True) >= 10  # the event loop kept running the timer while the codec worked
    assert window.workspace.analysis(0) is not None

    window.workspace.replace_specs([model_condition(delay_entry(), 3.0)])  # cancel mid-render
    assert window.workspace.rendering and window.toolbar.render_action.text() == "Cancel"
    window.toolbar.render_action.trigger()
    assert not window.workspace.rendering and window.workspace.conditions.pending() == [0]


def test_table_shows_lag_and_bitrates_of_a_delayed_condition(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path
) -> None:
    window, _ = make_window((delay_entry(), DelayCodec()))
    path = tmp_path / "noise.wav"  # aperiodic, so the lag is unambiguous (a tone repeats every period)
    sf.write(path, np.random.default_rng(0).uniform(-0.3, 0.3, 24_000).astype(np.float32), 24_000, "FLOAT")
    open_and_render(qtbot, window, path, [model_condition(delay_entry(), 6.0), ConditionSpec(OPUS, 12.0)])
    analysis = window.workspace.analysis(0)
    assert analysis is not None and analysis.lag_samples == DELAY_SAMPLES
    model = window.workspace.model
    cells = [[model.index(row, col).data() for col in range(model.columnCount())] for row in range(2)]
    assert cells[0][:5] == ["1", "Delay (delay) @ 6 kbps", "6", "—", "10.00"]  # no bitstream: no achieved kbps
    # Aligned: same loudness, SI-SDR limited only by the 10 ms of zeros at the end (unaligned noise scores below 0).
    assert abs(float(cells[0][5])) < 0.1 and float(cells[0][8]) > 15
    assert cells[1][:3] == ["2", "Opus @ 12 kbps", "12"] and float(cells[1][3]) == pytest.approx(12, rel=0.05)
    # The aligned condition played as source 1 lines up with the original sample for sample.
    original = window.state.clip.audio  # type: ignore[union-attr]
    assert np.allclose(analysis.audio[0, : -DELAY_SAMPLES], original[0, : -DELAY_SAMPLES], atol=1e-6)


def test_recent_files_excerpt_and_preferences(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, services = make_window()
    gone = write_tone(tmp_path / "gone.wav", duration_s=0.3)
    window.settings.add_recent_file(gone)
    gone.unlink()
    long_file = write_tone(tmp_path / "long.wav", duration_s=3.0)
    window.long_clip_s = 2.0
    window.open_file(long_file)
    qtbot.waitUntil(lambda: window.excerpt_dialog is not None and window.excerpt_dialog.isVisible(), timeout=10_000)
    assert window.state.clip is None  # nothing is rendered before the excerpt is chosen
    dialog = window.excerpt_dialog
    assert dialog is not None
    dialog.start_spin.setValue(0.5)
    dialog.length_spin.setValue(1.0)
    dialog.accept()
    qtbot.waitUntil(lambda: window.state.clip is not None, timeout=10_000)
    clip = window.state.clip
    assert clip is not None and clip.num_samples == 24_000 and clip.offset_s == 0.5
    assert "excerpt from 0:00.500" in window.clip_label.text() and services.engine.num_samples == 24_000
    assert window.settings.recent_files() == [str(long_file)] and window.settings.last_folder() == str(tmp_path)
    window.actions_.recent_menu.aboutToShow.emit()
    assert window.actions_.recent_menu.actions()[0].text() == "long.wav"

    window.preferences.scan = lambda: DeviceScan((FAKE_DEVICE,))  # type: ignore[method-assign]
    dialog = window.preferences.open_dialog()
    dialog.colormap_combo.setCurrentText("viridis")
    dialog.blocksize_combo.setCurrentIndex(dialog.blocksize_combo.findData(1024))
    dialog.accept()
    assert window.settings.colormap() == "viridis" and window.settings.blocksize() == 1024
    assert services.engine.blocksize == 1024 and services.engine.device == FAKE_DEVICE
    window.close()
    reopened = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "EarBench", "EarBench")
    assert reopened.value("view/colormap") == "viridis" and reopened.contains("window/geometry")
