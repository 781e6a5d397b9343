"""First run and help: the example clip and key guide on first start only, the About box, the log and error dialog,
and ``--smoke-test`` on the source tree (the same check ``make package`` runs on the frozen build)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import __version__
from app.core.about import ModelSummary, default_model
from app.logging_setup import remove_handlers, setup_logging
from app.ui.about_dialog import NO_MODEL_TEXT, AboutDialog
from app.ui.error_dialog import install_excepthook, restore_excepthooks
from app.ui.first_run_guide import KEY_GUIDE, KeyGuide, is_first_run, mark_first_run_done

ROOT = Path(__file__).resolve().parents[2]

# Runs app.main.main in a subprocess (the real event loop must not run inside pytest) and reports what it showed.
FIRST_RUN_SCRIPT = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.main import main
from app.ui.first_run_guide import KeyGuide
from app.ui.main_window import MainWindow
app = QApplication(sys.argv[:1])
wanted_title, report, polls = sys.argv[1], {}, [0]
def check():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    polls[0] += 1
    if windows and (wanted_title in windows[0].windowTitle() or polls[0] > 400):
        guides = [w for w in app.topLevelWidgets() if isinstance(w, KeyGuide) and w.isVisible()]
        menus = [a.text() for a in windows[0].menuBar().actions()]
        report.update(guide=bool(guides), modal=any(g.isModal() for g in guides), title=windows[0].windowTitle(),
                      menus=menus)
        app.quit()
    else:
        QTimer.singleShot(50, check)
QTimer.singleShot(50, check)
code = main(sys.argv[2:])
print(json.dumps(report))
sys.exit(code)
"""


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    return env


def _start_app(home: Path, wanted_title: str, *argv: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_RUN_SCRIPT, wanted_title, *argv],
        cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_first_start_opens_the_example_and_shows_the_guide_once(tmp_path: Path) -> None:
    first = _start_app(tmp_path, "example.flac")
    assert first["guide"] and not first["modal"]
    assert "example.flac" in str(first["title"]) and "&Help" in first["menus"]
    again = _start_app(tmp_path, "EarBench")
    assert not again["guide"] and "example.flac" not in str(again["title"])


def test_first_run_flag(tmp_path: Path, qtbot: QtBot) -> None:
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert is_first_run(settings)
    mark_first_run_done(settings)
    assert not is_first_run(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.mark.gui
def test_guide_is_non_modal_and_reopens_from_help(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMainWindow

    from app.ui.help_menu import HelpMenu

    monkeypatch.setattr("app.ui.about_dialog.default_model", lambda: None)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    help_menu = HelpMenu(window)
    guide = help_menu.show_guide()
    assert isinstance(guide, KeyGuide) and guide.isVisible() and not guide.isModal()
    text = guide.label.text()
    assert all(keys in text for keys, _ in KEY_GUIDE) and "Space" in text and "0 or R" in text
    guide.close()
    assert not guide.isVisible()
    help_menu.guide_action.trigger()
    assert help_menu.guide is guide and guide.isVisible()
    help_menu.about_action.trigger()
    assert help_menu.about is not None and help_menu.about.isVisible()
    help_menu.about.close()


@pytest.mark.gui
def test_about_lists_app_model_and_library_versions(qtbot: QtBot, tmp_path: Path) -> None:
    card = tmp_path / "MODEL_CARD.md"
    model = ModelSummary("earbench_24khz", tmp_path / "m.safetensors", 24_000, (1.5, 6.0), {"steps": 1234}, card)
    about = AboutDialog(model=model, log_path=tmp_path / "earbench.log")
    qtbot.addWidget(about)
    text = about.text()
    for label in ("EarBench", "Python", "torch", "PySide6", "Qt", "NumPy", "soundfile", "libsndfile", "PortAudio"):
        assert f"\n{label}: " in text
    assert f"EarBench: {__version__}" in text and "torch: not found" not in text
    assert "earbench_24khz (24 kHz; 1.5, 6 kbps)" in text and "steps: 1234" in text and str(card) in text
    assert str(tmp_path / "earbench.log") in text
    about.copy_to_clipboard()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == text


@pytest.mark.gui
def test_about_without_a_model(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.ui.about_dialog.default_model", lambda: None)
    about = AboutDialog()
    qtbot.addWidget(about)
    assert NO_MODEL_TEXT in about.text()


def test_default_model_reads_provenance_and_card(tmp_path: Path) -> None:
    from codec.checkpoint import save_model
    from codec.config import encodec_24khz
    from codec.model import build_model

    base = encodec_24khz()
    tiny = dataclasses.replace(
        base,
        name="tiny_trained",
        seanet=dataclasses.replace(base.seanet, n_filters=2, lstm_layers=0, dimension=8),
        quantizer=dataclasses.replace(base.quantizer, dimension=8),
    )
    model = build_model(tiny)
    save_model(model, tmp_path / "a_random.safetensors", provenance={"random_init": True})  # never the default
    save_model(model, tmp_path / "tiny.safetensors", provenance={"steps": 42, "data": "test"})
    (tmp_path / "MODEL_CARD.md").write_text("# tiny\n")
    model = default_model([tmp_path])
    assert model is not None and model.name == "tiny_trained" and model.provenance["steps"] == 42
    assert model.card_path == tmp_path / "MODEL_CARD.md"
    assert default_model([tmp_path / "empty"]) is None


@pytest.mark.gui
def test_uncaught_thread_exception_is_logged_and_shown(qtbot: QtBot, tmp_path: Path) -> None:
    log_path = tmp_path / "log" / "earbench.log"
    level = logging.getLogger().level
    handlers = setup_logging(log_path)
    hook, previous = install_excepthook(log_path)
    try:
        worker = threading.Thread(target=lambda: 1 / 0, name="worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: hook.box is not None and hook.box.isVisible(), timeout=5000)
        assert hook.count == 1 and str(log_path) in hook.box.informativeText()
        assert "ZeroDivisionError" in hook.box.detailedText()
        hook.box.close()
        try:
            raise ValueError("main thread broke")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        assert hook.count == 2
    finally:
        restore_excepthooks(hook, previous)
        remove_handlers(handlers)
        logging.getLogger().setLevel(level)
    log = log_path.read_text()
    assert "Unhandled exception" in log and "ZeroDivisionError" in log and "ValueError: main thread broke" in log
    assert threading.excepthook is not hook.thread_hook and sys.excepthook is previous


def test_smoke_test_flag_on_the_source_tree(tmp_path: Path) -> None:
    summary_file = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke_test.py"), "--python-module", "--timeout-s", "240",
         "--json", str(summary_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(summary_file.read_text())
    report = summary["report"]
    assert summary["passed"] and report["passed"] and report["clip"] == "example.flac"
    assert report["output_rms"] > 0 and report["bitrate_kbps"] > 0
    assert "not found" not in report["libraries"].values()
    assert {"portaudio", "opus"} <= set(report["shared_libraries"])


def test_about_shows_the_training_history_of_a_model_trained_in_several_runs() -> None:
    from app.core.about import describe_provenance

    provenance = {"trained_steps": 2539, "batch_size": 32, "device": "NVIDIA H200",
                  "init_from": {"file": "last.pt", "trained_steps": 5053, "batch_size": 32, "device": "NVIDIA H200",
                                "init_from": {"file": "first.safetensors", "trained_steps": 7000, "batch_size": 8}}}
    rows = dict(describe_provenance(provenance))
    assert rows["training"] == ("7,000 steps at batch 8 → 5,053 steps at batch 32 (NVIDIA H200) → "
                                "2,539 steps at batch 32 (NVIDIA H200)")
    assert "init_from" not in rows and rows["trained_steps"] == "2539"
    # A run whose weights came from a file that is gone shows the file's name; a single run has no history row.
    gone = dict(describe_provenance({"trained_steps": 10, "init_from": {"file": "gone.pt"}}))
    assert gone["training"] == "gone.pt → 10 steps"
    assert "training" not in dict(describe_provenance({"trained_steps": 10}))
