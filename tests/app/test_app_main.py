"""The composition root, paths, and the error hook."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import __version__, paths
from app.main import parse_args
from app.ui.error_dialog import install_excepthook, restore_excepthooks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_parse_args() -> None:
    args = parse_args(["clip.wav", "--model", "m.safetensors"])
    assert args.file == Path("clip.wav") and args.model == Path("m.safetensors")
    assert parse_args([]).file is None


def test_python_m_app_version() -> None:
    done = subprocess.run([sys.executable, "-m", "app", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"EarBench {__version__}"


def test_resources_in_the_tree_and_when_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert paths.icon_path().is_file() and paths.example_clip_path().is_file()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


def test_main_opens_the_window_logs_and_restores_the_hook(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]),
        QT_QPA_PLATFORM="offscreen",
    )
    done = subprocess.run(
        [sys.executable, str(HERE / "main_briefly.py"), str(paths.example_clip_path())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["title"] == "example.flac - EarBench" and "24000 Hz" in report["clip"]
    assert report["excepthook"] == "ExceptionHook" and report["excepthook_after"] != "ExceptionHook"
    log = tmp_path / "state" / "earbench" / "log" / "earbench.log"
    assert "EarBench 0.1.0 starting" in log.read_text()


@pytest.mark.gui
def test_excepthook_logs_and_shows_one_dialog(qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hook, previous = install_excepthook(tmp_path / "earbench.log")
    try:
        try:
            raise ValueError("something broke")
        except ValueError as exc:
            with caplog.at_level(logging.CRITICAL):
                hook(type(exc), exc, exc.__traceback__)
                hook(type(exc), exc, exc.__traceback__)
        assert hook.count == 2 and "Unhandled exception" in caplog.text
        box = hook.box
        assert box is not None and box.isVisible()
        assert "something broke" in box.text() and "earbench.log" in box.informativeText()
        assert "ValueError" in box.detailedText()
        box.close()
    finally:
        restore_excepthooks(hook, previous)


@pytest.mark.gui
def test_binding_check_matches_the_known_bad_pyside(qtbot: QtBot) -> None:
    import PySide6

    from app.ui.binding_check import binding_problem

    known_bad = PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12)
    problem = binding_problem()
    assert (problem is not None) == known_bad
    if problem is not None:
        assert "6.11.3" in problem
