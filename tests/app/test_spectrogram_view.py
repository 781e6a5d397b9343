"""The spectrogram view: shared dB scale, linked zoom, play head, band-limit line, linear/log frequency axis; alone
and in the main window (where the axis choice is a View menu action, remembered in the settings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
from app_testing import FAKE_DEVICE, FakeStream, write_tone
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from app.audio.engine import PlaybackEngine
from app.core.frequency_scale import LOG_ROWS
from app.core.models import ModelCatalog
from app.core.spectrogram import DIFFERENCE_LEVELS_DB, Spectrogram, compute_spectrogram, difference
from app.main import Services, build_services, create_main_window, parse_args
from app.ui.app_settings import AppSettings
from app.ui.main_window import MainWindow
from app.ui.playback_controller import PlaybackController
from app.ui.spectrogram_panel import SpectrogramPanel
from app.ui.spectrogram_view import SpectrogramView

pytestmark = pytest.mark.gui

MakeWindow = Callable[[Path], MainWindow]


def noise(sample_rate: int, duration_s: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, round(sample_rate * duration_s))) * 0.1).astype(np.float32)


@pytest.fixture
def view(qtbot: QtBot) -> SpectrogramView:
    widget = SpectrogramView()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def x_range(view: SpectrogramView, index: int) -> tuple[float, float]:
    low, high = view.panels[index].plot.getViewBox().viewRange()[0]
    return float(low), float(high)


def y_range(view: SpectrogramView, index: int) -> tuple[float, float]:
    low, high = view.panels[index].plot.getViewBox().viewRange()[1]
    return float(low), float(high)


def row_hz_at(panel: SpectrogramPanel, y: float) -> float:
    """The frequency of the image row drawn at height ``y`` of the plot (through the image's placement)."""
    bounds = panel.image.mapRectToParent(panel.image.boundingRect())
    assert panel.shown is not None
    row = int((y - bounds.top()) / bounds.height() * panel.image.image.shape[0])
    return float(panel.shown.freqs_hz[row])


def tone_and_lowpassed(rate: int) -> tuple[Spectrogram, Spectrogram, Spectrogram]:
    """A 1 kHz tone in noise, and the same low-passed at 12 kHz (a 24 kHz model's output): original, codec, diff."""
    t = np.arange(rate // 2) / rate
    audio = (noise(rate, 0.5)[0] + 0.5 * np.sin(2 * np.pi * 1000.0 * t))[None, :].astype(np.float32)
    sos = scipy.signal.butter(12, 12_000, fs=rate, output="sos")
    lowpassed = scipy.signal.sosfiltfilt(sos, audio, axis=-1).astype(np.float32)
    original, codec = compute_spectrogram(audio, rate), compute_spectrogram(lowpassed, rate)
    return original, codec, difference(original, codec)


def test_before_a_render_only_the_original_shows(view: SpectrogramView) -> None:
    assert all(panel.placeholder.isVisible() for panel in view.panels)
    view.set_original(compute_spectrogram(noise(24_000, 1.0), 24_000))
    assert view.original.image.isVisible() and not view.original.placeholder.isVisible()
    assert view.original.image.image is not None and view.original.image.axisOrder == "row-major"
    for panel in (view.codec, view.difference):
        assert not panel.image.isVisible() and panel.placeholder.isVisible()
    assert x_range(view, 0)[1] == pytest.approx(1.0, abs=0.02)
    bounds = view.original.image.mapRectToParent(view.original.image.boundingRect())
    assert bounds.right() == pytest.approx(1.0, abs=0.02) and bounds.bottom() == pytest.approx(12_000, rel=0.01)


def test_shared_levels_linked_zoom_and_play_head(qtbot: QtBot, view: SpectrogramView, tmp_path: Path) -> None:
    original = compute_spectrogram(noise(24_000, 2.0), 24_000)
    codec = compute_spectrogram(noise(24_000, 2.0, seed=1) * 0.5, 24_000)
    view.set_original(original)
    view.set_reconstruction(codec, difference(original, codec))
    for panel in view.panels:
        assert panel.image.isVisible() and not panel.placeholder.isVisible()
    assert view.original.image.getLevels() == pytest.approx(view.codec.image.getLevels())
    assert view.difference.image.getLevels() == pytest.approx(DIFFERENCE_LEVELS_DB)
    view.spectrum_bar.setLevels((-80.0, -10.0))  # one bar drives both spectra
    assert view.original.image.getLevels() == pytest.approx((-80.0, -10.0))
    assert view.codec.image.getLevels() == pytest.approx((-80.0, -10.0))
    assert view.difference.image.getLevels() == pytest.approx(DIFFERENCE_LEVELS_DB)

    view.codec.plot.setXRange(0.5, 1.0, padding=0.0)
    for index in range(3):
        assert x_range(view, index) == pytest.approx((0.5, 1.0), abs=1e-6)
    view.difference.plot.setYRange(1000.0, 2000.0, padding=0.0)
    assert view.original.plot.getViewBox().viewRange()[1] == pytest.approx([1000.0, 2000.0])

    view.set_playhead(0.75)
    assert view.playhead_s == pytest.approx(0.75)
    assert all(panel.playhead.value() == pytest.approx(0.75) for panel in view.panels)

    shot = view.grab().toImage()
    shot.save(str(tmp_path / "spectrograms.png"))
    pixels = {shot.pixel(x, y) for x in range(0, shot.width(), 17) for y in range(0, shot.height(), 17)}
    assert len(pixels) > 20  # images were drawn, not a blank widget


def test_band_limit_line(view: SpectrogramView) -> None:
    view.set_original(compute_spectrogram(noise(48_000, 0.5), 48_000))
    assert not any(panel.band_limit.isVisible() for panel in view.panels)
    view.set_band_limit(12_000.0)
    for panel in view.panels:
        assert panel.band_limit.isVisible() and panel.band_limit.value() == pytest.approx(12_000.0)
    assert "24 kHz model band limit" in view.original.band_limit.label.toPlainText()
    view.set_band_limit(None)
    assert not view.original.band_limit.isVisible() and view.band_limit_hz is None


def test_log_frequency_switch_redraws_all_three_and_keeps_band_line_zoom_and_links(view: SpectrogramView) -> None:
    original, codec, diff = tone_and_lowpassed(48_000)
    view.set_original(original)
    view.set_reconstruction(codec, diff)
    view.set_band_limit(12_000.0)
    view.set_log_frequency(True)
    assert view.log_frequency
    for panel in view.panels:
        assert panel.shown is not None and panel.shown.log_frequency
        assert panel.image.image.shape == (LOG_ROWS, original.db.shape[1])
        assert panel.band_limit.isVisible() and panel.band_limit.value() == pytest.approx(np.log10(12_000.0))
        assert row_hz_at(panel, panel.band_limit.value()) == pytest.approx(12_000.0, rel=0.01)  # on the 12 kHz row
        ticks = panel.plot.getAxis("left")._tickLevels
        assert ticks is not None and (np.log10(1000.0), "1k") in ticks[0] and (np.log10(20_000.0), "20k") in ticks[0]
    assert view.band_limit_hz == 12_000.0
    assert view.codec.image.getLevels() == pytest.approx(view.original.image.getLevels())
    assert view.difference.image.getLevels() == pytest.approx(DIFFERENCE_LEVELS_DB)
    low, high = y_range(view, 0)
    assert 20.0 <= 10**low <= 50.0 and 10**high == pytest.approx(24_000.0)
    # The tone's row is where 1 kHz is drawn; above the band limit the difference shows the loss.
    column = original.db.shape[1] // 2
    peak_row = int(np.argmax(view.original.image.image[:, column]))
    bin_hz = 48_000 / 1024  # the tone peaks in the STFT bin nearest 1 kHz (984 Hz): within a bin of the 1 kHz row
    assert abs(row_hz_at(view.original, np.log10(1000.0)) - view.original.shown.freqs_hz[peak_row]) < bin_hz
    diff_column = view.difference.image.image[:, column]
    assert np.median(diff_column[view.difference.shown.freqs_hz > 15_000]) < -40.0

    view.codec.plot.setYRange(np.log10(500.0), np.log10(5000.0), padding=0.0)  # zoom stays linked in log mode
    for index in range(3):
        assert y_range(view, index) == pytest.approx((np.log10(500.0), np.log10(5000.0)), abs=1e-6)
    view.set_log_frequency(False)  # back to linear: the same frequencies stay in view, the line at 12 kHz
    for index, panel in enumerate(view.panels):
        assert y_range(view, index) == pytest.approx((500.0, 5000.0), rel=1e-4)
        assert panel.image.image.shape == original.db.shape and panel.band_limit.value() == pytest.approx(12_000.0)
        assert panel.plot.getAxis("left")._tickLevels is None
    view.set_log_frequency(True)
    assert y_range(view, 2) == pytest.approx((np.log10(500.0), np.log10(5000.0)), abs=1e-4)

    other = compute_spectrogram(noise(24_000, 0.3), 24_000)  # a new clip in log mode is drawn on log rows at once
    view.set_original(other)
    assert view.original.shown is not None and view.original.shown.log_frequency
    assert 10 ** y_range(view, 1)[1] == pytest.approx(12_000.0) and view.codec.placeholder.isVisible()


# ------------------------------------------------------------------------------------------------ in the window
@pytest.fixture
def window_for(qtbot: QtBot, random_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeWindow]:
    # The window's settings go to a temporary INI file, never the user's.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))
    made: list[tuple[MainWindow, Services]] = []

    def make(clip: Path) -> MainWindow:
        engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
        services = build_services(catalog=ModelCatalog(lister=list), engine=engine)
        window = create_main_window(parse_args([str(clip), "--model", str(random_checkpoint)]), services)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append((window, services))
        qtbot.waitUntil(lambda: window.state.clip is not None, timeout=10_000)
        qtbot.waitUntil(lambda: window.toolbar.render_action.isEnabled(), timeout=20_000)
        return window

    yield make
    for window, services in made:
        window.close()
        services.close()


def render(qtbot: QtBot, window: MainWindow) -> None:
    """The default conditions render on open; select the first model row once rendered and wait until it is shown."""
    rows = window.workspace.conditions.rows
    qtbot.waitUntil(lambda: any(r.spec.kind == "model" and r.analysis is not None for r in rows), timeout=60_000)
    row = next(i for i, r in enumerate(rows) if r.spec.kind == "model" and r.analysis is not None)
    window.table.select_row(row)
    qtbot.waitUntil(lambda: window._shown_row == row, timeout=30_000)


def test_window_shows_three_spectrograms_and_the_band_limit_of_a_24khz_model(
    qtbot: QtBot, window_for: MakeWindow, tmp_path: Path
) -> None:
    window = window_for(write_tone(tmp_path / "wide.wav", sample_rate=48_000, duration_s=0.3))
    view = window.spectrograms
    assert view.original.image.isVisible() and view.codec.placeholder.isVisible()
    assert not view.original.band_limit.isVisible()
    render(qtbot, window)
    for panel in view.panels:
        assert panel.image.isVisible() and panel.image.image.shape == view.original.image.image.shape
    assert view.original.image.getLevels() == pytest.approx(view.codec.image.getLevels())
    assert view.band_limit_hz == pytest.approx(12_000.0) and view.difference.band_limit.isVisible()

    window.playback.seek_s(0.2)  # the ~30 Hz poll moves the play head on the spectrograms too
    qtbot.waitUntil(lambda: view.playhead_s == pytest.approx(0.2))
    window.grab().save(str(tmp_path / "window.png"))

    action = window.actions_.log_frequency  # View > Logarithmic frequency axis
    assert action.isCheckable() and not action.isChecked() and not action.shortcut().isEmpty()
    action.trigger()
    assert view.log_frequency and window.settings.log_frequency()
    for panel in view.panels:
        assert panel.shown is not None and panel.shown.log_frequency and panel.image.image.shape[0] == LOG_ROWS
        assert row_hz_at(panel, panel.band_limit.value()) == pytest.approx(12_000.0, rel=0.01)


def test_window_hides_the_band_limit_for_a_24khz_clip(qtbot: QtBot, window_for: MakeWindow, tmp_path: Path) -> None:
    window = window_for(write_tone(tmp_path / "tone.wav", sample_rate=24_000, duration_s=0.3))
    render(qtbot, window)
    assert window.spectrograms.codec.image.isVisible()
    assert window.spectrograms.band_limit_hz is None and not window.spectrograms.original.band_limit.isVisible()


def test_the_frequency_axis_choice_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    def open_window() -> tuple[MainWindow, Services]:
        engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
        services = build_services(catalog=ModelCatalog(lister=list), engine=engine)
        settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(
            services.catalog, services.renders, PlaybackController(engine), services.runner, settings=settings
        )
        qtbot.addWidget(window)
        return window, services

    first, first_services = open_window()
    assert not first.actions_.log_frequency.isChecked() and not first.spectrograms.log_frequency
    first.actions_.log_frequency.trigger()
    assert first.spectrograms.log_frequency
    first.close()
    first_services.close()
    second, second_services = open_window()
    assert second.actions_.log_frequency.isChecked() and second.spectrograms.log_frequency
    second.actions_.log_frequency.trigger()
    assert not second.spectrograms.log_frequency and not second.settings.log_frequency()
    second.close()
    second_services.close()
