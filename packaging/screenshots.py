"""Screenshots of the real window for the docs: run under Xvfb with the xcb platform.

``xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python packaging/screenshots.py [--out docs/screenshots]``

Opens ``resources/examples/example.flac``, renders the default conditions (with the bundled model if one is
installed, else a random-weight 24 kHz model labelled as such) and saves PNGs. Each screen is one function taking
the prepared window and the output folder; add a function to :data:`SCREENS` to add a screenshot.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app import paths  # noqa: E402
from app.audio.devices import OutputDevice  # noqa: E402
from app.audio.engine import PlaybackEngine  # noqa: E402
from app.main import build_services, create_main_window, parse_args  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402

WINDOW_SIZE = (1360, 940)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Process events until ``condition()`` holds; raises TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.5) -> None:
    """Let layouts and repaints finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, path: Path) -> Path:
    """Grab ``widget`` as it is on screen and write a PNG."""
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    print(f"wrote {path}")
    return path


def screen_workspace(window: MainWindow, out: Path) -> Path:
    """The main window: conditions rendered, the 6 kbps row selected, a loop set, playing position mid-clip."""
    window.table.select_row(min(1, len(window.workspace.conditions) - 1))
    wait_until(lambda: window._shown_row == window.table.selected_row(), 60)
    window.playback.seek_s(1.5)
    window.set_loop_s(1.5, 3.0)
    window.playback.poll()
    settle()
    return save(window, out / "workspace.png")


def screen_spectrograms(window: MainWindow, out: Path) -> Path:
    """Original, condition and difference spectrograms alone (what File › Export › PNG writes)."""
    return save(window.spectrograms, out / "spectrograms.png")


def screen_add_conditions(window: MainWindow, out: Path) -> Path:
    """The Add conditions dialog over the window."""
    window.choose_conditions()
    dialog = window.conditions_dialog
    dialog.opus_edit.setText("6 24")
    dialog.mp3_edit.setText("32")
    settle()
    path = save(dialog, out / "add_conditions.png")
    dialog.reject()
    return path


SCREENS: tuple[Callable[[MainWindow, Path], Path], ...] = (screen_workspace, screen_spectrograms,
                                                            screen_add_conditions)


def model_argument(folder: Path) -> list[str]:
    """``--model PATH`` for the bundled model, else a random-weight one made here."""
    models = ROOT / "resources" / "models"
    bundled = sorted(p for p in models.glob("*") if p.suffix in (".th", ".safetensors")) if models.is_dir() else []
    if bundled:
        return ["--model", str(bundled[0])]
    from codec.testing import random_codec_checkpoint

    return ["--model", str(random_codec_checkpoint(folder / "random_24khz.safetensors"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)  # leave the user's alone
        device = OutputDevice(0, "Screenshot (silent)", "none", 2, 48_000, True)
        engine = PlaybackEngine(device, stream_factory=_silent_stream)
        services = build_services(engine=engine)
        window = create_main_window(parse_args(model_argument(Path(tmp))), services)
        window.resize(*WINDOW_SIZE)
        window.show()
        wait_until(lambda: window.toolbar.model_id is not None, 120)
        window.open_file(paths.example_clip_path())
        wait_until(lambda: window.state.clip is not None, 60)
        wait_until(lambda: not window.workspace.rendering and window.workspace.analysis(0) is not None, 900)
        for screen in SCREENS:
            screen(window, args.out)
        window.close()
        services.close()
    del app


class _silent_stream:  # noqa: N801 - stands in for sounddevice.OutputStream; never plays
    def __init__(self, **kwargs: object) -> None:
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False


if __name__ == "__main__":
    main()
