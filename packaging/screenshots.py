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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
import yaml  # noqa: E402
from PySide6.QtCore import QEvent, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app import paths  # noqa: E402
from app.audio.devices import DeviceScan, OutputDevice  # noqa: E402
from app.audio.engine import PlaybackEngine  # noqa: E402
from app.core.conditions import MODEL, ConditionAnalysis  # noqa: E402
from app.core.listening.anchors import anchor_recipe, render_anchors  # noqa: E402
from app.core.listening.design import TestDesign, load_design  # noqa: E402
from app.core.listening.randomise import draw_plan  # noqa: E402
from app.core.listening.storage import Answer, Storage  # noqa: E402
from app.main import Services, build_services, create_main_window, parse_args  # noqa: E402
from app.ui.listening.results_view import ResultsWindow  # noqa: E402
from app.ui.listening.runner import TestRunnerWindow  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402

WINDOW_SIZE = (1360, 940)
TEST_WINDOW_SIZE = (1100, 700)
RESULTS_WINDOW_SIZE = (1320, 760)
#: Xvfb has no sound card: the engine gets this stand-in device and a stream that never plays.
DEVICE = OutputDevice(0, "Built-in output", "ALSA", 2, 48_000, True)
#: The example clip: speech up to here, then plucked notes (two test items).
SPEECH_END_S = 3.27
#: Made-up mean MUSHRA scores of the results screenshot, by signal (systems get theirs from their bitrate).
FIXED_SCORES = {"reference": 98.0, "anchor_lp70": 55.0, "anchor_lp35": 22.0}
LISTENERS = ("ana", "ben", "chloe", "dev", "emil", "fatima", "gus", "hana")
#: This listener rates the hidden reference low on every item: post-screening excludes them (and says why).
CARELESS_LISTENER = "gus"


@dataclass
class Shot:
    """What the screen functions share: the prepared main window, the output folder and a scratch folder."""

    window: MainWindow
    out: Path
    work: Path
    designs: dict[str, TestDesign] = field(default_factory=dict)

    def engine(self) -> PlaybackEngine:
        """A silent engine for a test window."""
        return PlaybackEngine(DEVICE, stream_factory=_silent_stream)


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
def _condition_id(analysis: ConditionAnalysis) -> str:
    spec = analysis.spec
    return f"{spec.kind}_{spec.value:g}".replace(".", "_")


def _condition_label(shot: Shot, analysis: ConditionAnalysis) -> str:
    spec = analysis.spec
    if spec.kind != MODEL or spec.model_id is None:
        return spec.label
    entry = shot.window.catalog.entry(spec.model_id)
    name = Path(entry.source).stem if spec.model_id.startswith("file:") else spec.model_id
    return f"{name} {spec.value:g} kbps"


def example_design(shot: Shot, test_type: str, options: dict[str, object]) -> TestDesign:
    """A design of two items (the clip's speech and its notes) with every condition the window rendered."""
    if test_type in shot.designs:
        return shot.designs[test_type]
    window, folder = shot.window, shot.work / "design"
    clip = window.state.clip
    assert clip is not None
    rate = clip.sample_rate
    split = round((SPEECH_END_S if clip.duration_s > SPEECH_END_S + 1.0 else clip.duration_s / 2) * rate)
    parts = {"speech": slice(0, split), "notes": slice(split, None)}
    analyses = [a for a in window.workspace.conditions.analyses() if a is not None]
    conditions = {_condition_id(a): {"label": _condition_label(shot, a), **_bitrate(a)} for a in analyses}
    items = []
    for item, part in parts.items():
        files = {"reference": _write(folder / f"{item}_reference.wav", clip.audio[:, part], rate)}
        for analysis in analyses:
            cid = _condition_id(analysis)
            files[cid] = _write(folder / f"{item}_{cid}.wav", analysis.audio[:, part], rate)
        reference = files.pop("reference")
        items.append({"id": item, "reference": reference, "conditions": files})
    mapping = {
        "format_version": 1, "id": f"example-{test_type}", "name": f"Example {test_type.upper()} test",
        "description": "Made by packaging/screenshots.py from the example clip.", "type": test_type,
        "seed": 20261126, "conditions": conditions, "items": items, test_type: options,
    }
    path = folder / f"{test_type}.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    shot.designs[test_type] = design = load_design(path)
    return design


def _bitrate(analysis: ConditionAnalysis) -> dict[str, float]:
    requested = analysis.spec.requested_kbps
    return {} if requested is None else {"bitrate_kbps": float(requested)}


def _write(path: Path, audio: np.ndarray, sample_rate: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.ascontiguousarray(audio.T), sample_rate, subtype="FLOAT")
    return path.name


def _runner(shot: Shot, design: TestDesign, listener: str) -> tuple[TestRunnerWindow, Storage]:
    storage = Storage(shot.work / f"{design.id}.sqlite")
    runner = TestRunnerWindow(storage, shot.engine(), shot.work / "bundles", anchor_dir=shot.work / "anchors")
    runner.resize(*TEST_WINDOW_SIZE)
    runner.show()
    runner.open_design(design.source or design.base_dir)
    runner.listener_edit.setText(listener)
    runner.start(listener)
    wait_until(lambda: not runner.preparing, 120.0)  # MUSHRA anchors render in a background job first
    if runner.session is None:
        raise RuntimeError(f"the test did not start: {runner.notices.notice_text('open')}")
    return runner, storage


def _conditions_by_path(shot: Shot, design: TestDesign) -> dict[Path, str]:
    """Which condition each file of the design (and each anchor) is: for plausible made-up ratings."""
    found: dict[Path, str] = {}
    for item in design.items:
        found[item.reference] = "reference"
        found.update({path: cid for cid, path in item.conditions.items()})
    for anchors in render_anchors(design, shot.work / "anchors").values():
        found.update({path: aid for aid, path in anchors.items()})
    return found


def screen_mushra(shot: Shot) -> Path:
    """A MUSHRA page mid-session: training done, some signals rated, the playing one's slider enabled."""
    design = example_design(shot, "mushra", {"training": True, "require_max_rating": False})
    runner, storage = _runner(shot, design, "ana")
    runner.end_training()
    page, view = runner.page_widget, runner.session.page if runner.session else None
    assert page is not None and view is not None
    which = _conditions_by_path(shot, design)
    rng = np.random.default_rng(3)
    page.hear("ref")
    for stimulus in view.stimuli[:4]:
        page.hear(stimulus.key)
        score = _mean_score(design, which[stimulus.path]) + rng.normal(0.0, 5.0)
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
    runner, storage = _runner(shot, design, "ben")
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


def _mean_score(design: TestDesign, condition: str) -> float:
    """Made-up mean scores: fixed for the reference and anchors, rising with bitrate for the systems."""
    if condition in FIXED_SCORES:
        return FIXED_SCORES[condition]
    bitrate = design.conditions[condition].bitrate_kbps or 6.0
    return float(np.clip(30.0 + 17.0 * np.log2(bitrate / 1.5), 25.0, 90.0))


def made_up_ratings(shot: Shot, design: TestDesign, storage: Storage) -> None:
    """Store a finished MUSHRA session per listener with noisy ratings around :func:`_mean_score`."""
    storage.register_test(design, anchor_recipe=anchor_recipe())
    rng = np.random.default_rng(11)
    signals = ["reference", "anchor_lp35", "anchor_lp70", *design.conditions]
    for listener in LISTENERS:
        record = storage.create_session(design.id, listener, lambda n: draw_plan(design, n).to_json(),
                                        app_version="screenshots", transducer="headphones")
        bias = rng.normal(0.0, 4.0)
        for page, plan in enumerate(draw_plan(design, record.session_number).pages):
            answers = []
            for condition in signals:
                mean = 75.0 if condition == "reference" and listener == CARELESS_LISTENER else _mean_score(
                    design, condition)
                score = 100.0 if condition == "reference" and mean > 95 and rng.random() < 0.7 else mean + bias
                rating = float(np.clip(round(score + rng.normal(0.0, 7.0)), 0, 100))
                answers.append(Answer(record.id, page, 0, plan.item, condition, rating=rating,
                                      time_ms=int(rng.integers(40_000, 120_000)), n_plays=int(rng.integers(2, 9))))
            storage.record_answers(answers)
        storage.finish_session(record.id)


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


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)  # leave the user's alone
        services = build_services(engine=PlaybackEngine(DEVICE, stream_factory=_silent_stream))
        window = prepared_window(services, work)
        shot = Shot(window, args.out, work)
        for screen in selected_screens(args.only):
            screen(shot)
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
