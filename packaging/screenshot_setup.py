"""The main window the screenshots show, prepared, and what every screen function shares.

Imported by ``packaging/screenshots.py`` (which puts the repository root and this folder on ``sys.path`` first);
not meant to run by itself. :class:`Shot` is the context each screen function takes; :func:`prepared_window` opens
the example clip with a model chosen as the script's docstring says; the engine plays nowhere (Xvfb has no sound).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QWidget

from app import paths
from app.audio.devices import OutputDevice
from app.audio.engine import PlaybackEngine
from app.core.listening.design import TestDesign
from app.main import Services, create_main_window, parse_args
from app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1360, 940)
#: Xvfb has no sound card: the engine gets this stand-in device and a stream that never plays.
DEVICE = OutputDevice(0, "Built-in output", "ALSA", 2, 48_000, True)


@dataclass
class Shot:
    """What the screen functions share: the prepared main window, the output folder and a scratch folder."""

    window: MainWindow
    out: Path
    work: Path
    designs: dict[str, TestDesign] = field(default_factory=dict)

    def engine(self) -> PlaybackEngine:
        """A silent engine for a test window."""
        return PlaybackEngine(DEVICE, stream_factory=silent_stream)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Process events until ``condition()`` holds; raises TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.5) -> None:
    """Let layouts and repaints finish, and delete replaced widgets (``processEvents`` alone never does)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.02)


def save(widget: QWidget, path: Path) -> Path:
    """Grab ``widget`` as it is on screen and write a PNG."""
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    print(f"wrote {path}")
    return path


def bundled_models() -> list[Path]:
    """Model files shipped in ``resources/models``."""
    models = ROOT / "resources" / "models"
    return sorted(p for p in models.glob("*") if p.suffix in (".th", ".safetensors")) if models.is_dir() else []


def choose_model(window: MainWindow, folder: Path) -> None:
    """Select the bundled model (found by the catalog, or opened as a file), else an installed one, else a
    random-weight model made here; returns once the toolbar shows it."""
    wait_until(lambda: not window.runner.is_busy("models"), 120)
    models = (ROOT / "resources" / "models").resolve()
    entries = window.catalog.entries()
    bundled = next((e for e in entries if Path(e.source).resolve().parent == models), None)
    if bundled is not None or (entries and not bundled_models()):
        entry = bundled or entries[0]
        window.toolbar.set_models(entries, entry.model_id)
        window._on_selection_changed(window.toolbar.model_id, window.toolbar.bitrate_kbps)
        return
    if bundled_models():
        path = bundled_models()[0]
    else:
        from codec.testing import random_codec_checkpoint

        path = random_codec_checkpoint(folder / "random_24khz.safetensors")
    window.open_model_file(path)
    wait_until(lambda: str(window.toolbar.model_id or "").startswith("file:"), 120)


def prepared_window(services: Services, work: Path) -> MainWindow:
    """The main window with the example clip open and its default conditions rendered."""
    window = create_main_window(parse_args([]), services)
    window.resize(*WINDOW_SIZE)
    window.show()
    choose_model(window, work)
    window.open_file(paths.example_clip_path())
    wait_until(lambda: window.state.clip is not None, 60)
    wait_until(lambda: not window.workspace.rendering and window.workspace.analysis(0) is not None, 900)
    return window


class silent_stream:  # noqa: N801 - stands in for sounddevice.OutputStream; never plays
    def __init__(self, **kwargs: object) -> None:
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False
