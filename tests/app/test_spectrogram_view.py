"""The spectrogram view: shared dB scale, linked zoom, play head, band-limit line; alone and in the main window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from app_testing import FAKE_DEVICE, FakeStream, write_tone
from pytestqt.qtbot import QtBot

from app.audio.engine import PlaybackEngine
from app.core.models import ModelCatalog
from app.core.spectrogram import DIFFERENCE_LEVELS_DB, compute_spectrogram, difference
from app.main import Services, build_services, create_main_window, parse_args
from app.ui.main_window import MainWindow
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


# ------------------------------------------------------------------------------------------------ in the window
@pytest.fixture
def window_for(qtbot: QtBot, random_checkpoint: Path) -> Iterator[MakeWindow]:
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


def test_window_hides_the_band_limit_for_a_24khz_clip(qtbot: QtBot, window_for: MakeWindow, tmp_path: Path) -> None:
    window = window_for(write_tone(tmp_path / "tone.wav", sample_rate=24_000, duration_s=0.3))
    render(qtbot, window)
    assert window.spectrograms.codec.image.isVisible()
    assert window.spectrograms.band_limit_hz is None and not window.spectrograms.original.band_limit.isVisible()
