"""Screenshots of the real windows for the docs: run under Xvfb with the xcb platform.

``xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python packaging/screenshots.py [--out docs/screenshots]
[--only NAME ...]``

Opens ``resources/examples/example.flac`` in the main window and renders the default conditions with the model
EarBench ships in ``resources/models`` (else an installed official checkpoint, else a random-weight 24 kHz model,
labelled as such), then saves one PNG per screen. The listening-test screens use a small MUSHRA / ABX design written
into a temporary folder from the example clip and the conditions the window rendered (the anchors are rendered by
the app when the session starts), and a made-up ratings database of several listeners for the results view. Each
screen is one function taking the :class:`Shot` context; add it to :data:`SCREENS` to add a screenshot.
Nothing is written outside ``--out`` and a temporary folder; the user's settings are left alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
sys.path.append(str(ROOT / "packaging"))  # the sibling modules below, also when this file is loaded by path

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from screenshot_listening import conditions_by_path, example_design, made_up_ratings, mean_score, open_runner  # noqa: E402
from screenshot_setup import DEVICE, Shot, prepared_window, save, settle, silent_stream, wait_until  # noqa: E402

from app.audio.devices import DeviceScan  # noqa: E402
from app.audio.engine import PlaybackEngine  # noqa: E402
from app.core.listening.storage import Storage  # noqa: E402
from app.main import build_services  # noqa: E402
from app.ui.listening.results_view import ResultsWindow  # noqa: E402

RESULTS_WINDOW_SIZE = (1320, 760)


# ------------------------------------------------------------------------------------------------ workspace
def screen_workspace(shot: Shot) -> Path:
    """The main window: conditions rendered, the 6 kbps row selected, a loop set, playing position mid-clip."""
    window = shot.window
    window.table.select_row(min(1, len(window.workspace.conditions) - 1))
    wait_until(lambda: window._shown_row == window.table.selected_row(), 60)
    window.playback.seek_s(1.5)
    window.set_loop_s(1.5, 3.0)
    window.playback.poll()
    settle()
    return save(window, shot.out / "workspace.png")


def screen_spectrograms(shot: Shot) -> Path:
    """Original, condition and difference spectrograms alone (what File › Export › PNG writes)."""
    return save(shot.window.spectrograms, shot.out / "spectrograms.png")


def screen_add_conditions(shot: Shot) -> Path:
    """The Add conditions dialog over the window."""
    shot.window.choose_conditions()
    dialog = shot.window.conditions_dialog
    dialog.opus_edit.setText("6 24")
    dialog.mp3_edit.setText("32")
    settle()
    path = save(dialog, shot.out / "add_conditions.png")
    dialog.reject()
    return path


def screen_preferences(shot: Shot) -> Path:
    """File › Preferences (output device, buffer size, colour map, anchors)."""
    shot.window.preferences.scan = lambda: DeviceScan((DEVICE,))
    dialog = shot.window.preferences.open_dialog()
    settle()
    path = save(dialog, shot.out / "preferences.png")
    dialog.reject()
    return path


def screen_key_guide(shot: Shot) -> Path:
    """Help › Keyboard guide (shown by itself on the first start)."""
    guide = shot.window.help_menu.show_guide()
    settle()
    path = save(guide, shot.out / "key_guide.png")
    guide.hide()
    return path


def screen_about(shot: Shot) -> Path:
    """Help › About EarBench: versions of the app, the model and the libraries, and the log file."""
    about = shot.window.help_menu.show_about()
    settle()
    path = save(about, shot.out / "about.png")
    about.reject()
    return path


# ------------------------------------------------------------------------------------------- listening tests
def screen_mushra(shot: Shot) -> Path:
    """A MUSHRA page mid-session: training done, some signals rated, the playing one's slider enabled."""
    design = example_design(shot, "mushra", {"training": True, "require_max_rating": False})
    runner, storage = open_runner(shot, design, "ana")
    runner.end_training()
    page, view = runner.page_widget, runner.session.page if runner.session else None
    assert page is not None and view is not None
    which = conditions_by_path(shot, design)
    rng = np.random.default_rng(3)
    page.hear("ref")
    for stimulus in view.stimuli[:4]:
        page.hear(stimulus.key)
        score = mean_score(design, which[stimulus.path]) + rng.normal(0.0, 5.0)
        page.sliders[stimulus.key].slider.setValue(int(np.clip(round(score), 0, 100)))
    page.hear(view.stimuli[4].key)
    settle()
    path = save(runner, shot.out / "mushra.png")
    runner.close()
    storage.close()
    return path


def screen_abx(shot: Shot) -> Path:
    """An ABX trial: two trials answered, A and X played on the third, no answer yet."""
    design = example_design(shot, "abx", {"trials_per_item": 16, "allow_dont_know": True, "show_running_score": False})
    runner, storage = open_runner(shot, design, "ben")
    page, session = runner.page_widget, runner.session
    assert page is not None and session is not None
    for choice in ("A", "B"):
        for key in ("A", "B", "X"):
            page.hear(key)
        session.answer(choice)
        runner.next_page()
    page.hear("A")
    page.hear("X")
    settle()
    path = save(runner, shot.out / "abx.png")
    runner.close()
    storage.close()
    return path


def screen_results(shot: Shot) -> Path:
    """The results view of a made-up MUSHRA test with eight listeners (one excluded by post-screening)."""
    design = example_design(shot, "mushra", {"training": True, "require_max_rating": False})
    storage = Storage(shot.work / "results.sqlite")
    made_up_ratings(shot, design, storage)
    results = ResultsWindow(storage)
    results.resize(*RESULTS_WINDOW_SIZE)
    results.show()
    settle(1.0)
    path = save(results, shot.out / "results.png")
    results.tabs.setCurrentWidget(results.screening_text)
    settle()
    save(results, shot.out / "results_screening.png")
    results.close()
    storage.close()
    return path


SCREENS: dict[str, Callable[[Shot], Path]] = {
    "workspace": screen_workspace,
    "spectrograms": screen_spectrograms,
    "add_conditions": screen_add_conditions,
    "preferences": screen_preferences,
    "key_guide": screen_key_guide,
    "about": screen_about,
    "mushra": screen_mushra,
    "abx": screen_abx,
    "results": screen_results,
}


# -------------------------------------------------------------------------------------------------- running
def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``[--out FOLDER] [--only NAME ...]``; unknown screen names are refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="+", choices=sorted(SCREENS), metavar="NAME",
                        help=f"take only these screens ({', '.join(SCREENS)})")
    return parser.parse_args(argv)


def selected_screens(only: Sequence[str] | None) -> list[Callable[[Shot], Path]]:
    """The screens to take, in :data:`SCREENS` order."""
    return [screen for name, screen in SCREENS.items() if not only or name in only]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)  # leave the user's alone
        services = build_services(engine=PlaybackEngine(DEVICE, stream_factory=silent_stream))
        window = prepared_window(services, work)
        shot = Shot(window, args.out, work)
        for screen in selected_screens(args.only):
            screen(shot)
        window.close()
        services.close()
    del app


if __name__ == "__main__":
    main()
