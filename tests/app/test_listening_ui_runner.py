"""Listening tests taken end to end through the widgets (pytest-qt, offscreen): MUSHRA and ABX sessions, the MUSHRA
UI rules, AB and BS.1116 pages, then the database and the exports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_testing import FAKE_DEVICE, FakeStream
from listening_fixtures import fake_anchor, write_design
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.audio.engine import PlaybackEngine
from app.core.errors import RenderError
from app.core.listening.exports import read_tidy_csv, write_tidy_csv
from app.core.listening.report import write_report
from app.core.listening.storage import Storage
from app.ui.listening.abx_page import AbxPage
from app.ui.listening.mushra_page import MushraPage
from app.ui.listening.rating_slider import UNSET_TEXT
from app.ui.listening.runner import TestRunnerWindow


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "ratings.sqlite") as db:
        yield db


@pytest.fixture
def runner(qtbot, tmp_path: Path, storage: Storage) -> TestRunnerWindow:  # type: ignore[no-untyped-def]
    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
    window = TestRunnerWindow(storage, engine, tmp_path / "bundles", anchor_dir=tmp_path / "anchors",
                              anchor_renderer=fake_anchor)
    qtbot.addWidget(window)
    return window


BY_CONDITION = {"reference": 97.0, "anchor_lp70": 50.0, "anchor_lp35": 20.0, "c1": 60.0, "c2": 80.0}


def _start(qtbot, runner: TestRunnerWindow, design_path: Path, listener: str = "alice") -> None:  # type: ignore[no-untyped-def]
    assert runner.open_design(design_path) is not None
    assert not runner.start_button.isEnabled()  # no listener yet
    qtbot.keyClicks(runner.listener_edit, listener)
    qtbot.mouseClick(runner.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: runner.session is not None)  # MUSHRA: after the anchors rendered in a job
    assert runner.stack.currentIndex() == 1


def _click(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_mushra_session_end_to_end_through_the_widgets(qtbot, runner: TestRunnerWindow, storage: Storage,
                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    design_path = write_design(tmp_path / "mushra", "mushra", options={"training": True})
    _start(qtbot, runner, design_path)
    session, page = runner.session, runner.page_widget
    assert isinstance(page, MushraPage) and session is not None
    # Training: names shown, Next allowed at once, nothing stored.
    assert session.phase == "training" and "Training" in runner.header.text()
    labels = {b.text() for k, b in page._play_buttons.items() if k != "ref"}
    assert "Codec c1" in labels and "Hidden reference" in labels
    _click(qtbot, runner.end_training_button)
    assert session.phase == "test" and storage.tidy_rows() == []

    expected: dict[tuple[str, str], float] = {}
    for page_number in range(2):
        view = session.page
        assert view is not None and not view.training
        assert [b.text() for k, b in page._play_buttons.items() if k != "ref"] == [s.key for s in view.stimuli]
        # Sliders start unset and disabled; Next is disabled until every signal was played and rated.
        assert all(s.rating is None and s.value_label.text() == UNSET_TEXT for s in page.sliders.values())
        assert not any(s.isEnabled() for s in page.sliders.values())
        assert not runner.next_button.isEnabled() and "play 1" in runner.blocking_label.text()
        signals = {s.stimulus.key: s.condition for s in session._signals()[1]}
        _click(qtbot, page._play_buttons["ref"])
        assert not any(s.isEnabled() for s in page.sliders.values())  # the reference enables no slider
        for n, stimulus in enumerate(view.stimuli):
            if n % 2:
                qtbot.keyClick(page, stimulus.key)  # number keys play signals
            else:
                _click(qtbot, page._play_buttons[stimulus.key])
            assert runner.player.current_key == stimulus.key
            assert [k for k, s in page.sliders.items() if s.isEnabled()] == [stimulus.key]
            others = [s for k, s in page.sliders.items() if k != stimulus.key]
            others[0].slider.setValue(55)  # a disabled slider does not move
            assert others[0].slider.value() != 55 or others[0].rating != 55
            value = BY_CONDITION[signals[stimulus.key]] + 3.0 * page_number
            page.sliders[stimulus.key].slider.setValue(int(value))
            expected[(view.item, signals[stimulus.key])] = value
            if n < len(view.stimuli) - 1:
                assert not runner.next_button.isEnabled()
        assert runner.next_button.isEnabled() and runner.blocking_label.text() == ""
        _click(qtbot, runner.next_button)

    assert session.finished and runner.stack.currentIndex() == 2
    rows = storage.tidy_rows()
    assert len(rows) == len(expected) == 10  # 2 pages x (2 conditions + hidden reference + 2 anchors)
    assert {(r.item, r.condition): r.rating for r in rows} == expected
    assert all(r.listener == "alice" and r.n_plays >= 1 for r in rows)
    assert {r.condition for r in rows} == {"c1", "c2", "reference", "anchor_lp35", "anchor_lp70"}
    assert sum(r.n_switches for r in rows) > 0  # switching while playing was counted
    # Exports carry the answers.
    csv_rows = read_tidy_csv(write_tidy_csv(rows, tmp_path / "tidy.csv"))
    assert {(r.item, r.condition): r.rating for r in csv_rows} == expected
    assert {r.listener for r in csv_rows} == {"alice"}
    report = write_report(tmp_path / "report.html", rows, design=session.design).read_text(encoding="utf-8")
    assert "Codec c1" in report and "61.5" in report and "81.5" in report  # per-condition means of the answers


def test_abx_session_end_to_end_through_the_widgets(qtbot, runner: TestRunnerWindow, storage: Storage,
                                                    tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    design_path = write_design(tmp_path / "abx", "abx", n_items=1, conditions=("c1",),
                               options={"trials_per_item": 10, "allow_dont_know": True})
    _start(qtbot, runner, design_path, "bob")
    session, page = runner.session, runner.page_widget
    assert isinstance(page, AbxPage) and session is not None
    assert not page.score.isVisible()  # running score hidden by default
    truth: list[bool | None] = []
    for trial in range(10):
        assert page.counter.text() == f"Trial {trial + 1} of 10"
        assert not runner.next_button.isEnabled()
        for key in ("a", "b", "x"):
            qtbot.keyClick(page, key)
        x_is = session._signals()[1][2].condition
        choice = "dont_know" if trial == 9 else ("A" if (x_is == "reference") == (trial % 3 != 0) else "B")
        _click(qtbot, page.answer_buttons[choice])
        truth.append(None if choice == "dont_know" else (choice == "A") == (x_is == "reference"))
        assert runner.next_button.isEnabled()
        _click(qtbot, runner.next_button)
    assert session.finished
    rows = storage.tidy_rows()
    assert [r.correct for r in rows] == truth
    assert [r.answer for r in rows][-1] == "dont_know"
    assert all(r.n_plays == 3 and r.condition == "c1" and r.listener == "bob" for r in rows)
    csv_text = write_tidy_csv(rows, tmp_path / "tidy.csv").read_text(encoding="utf-8")
    assert csv_text.count("bob") == 10
    report = write_report(tmp_path / "report.html", rows).read_text(encoding="utf-8")
    n_correct = sum(t is True for t in truth)
    assert "ABX" in report and f"{n_correct}/9" in report


def test_design_warnings_go_to_the_researcher_not_the_listener(qtbot, runner: TestRunnerWindow,
                                                               tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    design_path = write_design(tmp_path / "long", "mushra", n_items=1, duration_s=12.5, options={"training": False})
    runner.open_design(design_path)
    box = runner.warnings_box
    assert box is not None and box.isVisible() and "excerpt is 12.5 s" in box.informativeText()
    assert any("recommends" in w for w in runner.design_warnings)
    # Nothing about the design on the listener's start screen or test pages.
    start_texts = " ".join(label.text() for label in runner.stack.widget(0).findChildren(QLabel))
    assert "12.5" not in start_texts and "recommends" not in start_texts
    assert not any(runner.notices.has_notice(key) for key in ("design-0", "design-1", "warning-0"))
    qtbot.keyClicks(runner.listener_edit, "carol")
    qtbot.mouseClick(runner.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: runner.session is not None)
    assert not box.isVisible()  # closed before the listener's first page
    assert runner.session is not None and any("12.5 s" in w for w in runner.session.warnings)
    page_texts = " ".join(label.text() for label in runner.findChildren(QLabel) if label.isVisible())
    assert "12.5" not in page_texts and "BS.1534" not in page_texts
    assert not runner.notices.has_notice("warning-0")


def test_mushra_anchors_render_in_a_worker_and_the_session_then_starts(qtbot, storage: Storage,
                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    callers: list[int] = []
    release = threading.Event()

    def recording_renderer(audio, sample_rate, cutoff_hz):  # type: ignore[no-untyped-def]
        callers.append(threading.get_ident())
        release.wait(5.0)  # hold the job so the busy state can be seen
        return fake_anchor(audio, sample_rate, cutoff_hz)

    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
    window = TestRunnerWindow(storage, engine, tmp_path / "bundles", anchor_dir=tmp_path / "anchors",
                              anchor_renderer=recording_renderer)
    qtbot.addWidget(window)
    window.open_design(write_design(tmp_path / "m", "mushra", n_items=1), show_warnings=False)
    assert window.warnings_box is None
    window.listener_edit.setText("dan")
    with qtbot.waitSignal(window.session_started, timeout=10_000) as started:
        assert window.start("dan") is None  # returns at once; the job renders
        assert window.preparing and not window.busy_bar.isHidden() and not window.start_button.isEnabled()
        assert window.stack.currentIndex() == 0 and window.session is None
        release.set()
    assert started.args[0] is window.session and window.stack.currentIndex() == 1
    assert callers and threading.get_ident() not in callers  # every render ran off the GUI thread
    assert window.busy_bar.isHidden() and not window.preparing


def test_anchor_failure_is_shown_in_a_dialog(qtbot, storage: Storage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def broken_renderer(audio, sample_rate, cutoff_hz):  # type: ignore[no-untyped-def]
        raise RenderError("filter design failed")

    engine = PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream, blocksize=256)
    window = TestRunnerWindow(storage, engine, tmp_path / "bundles", anchor_dir=tmp_path / "anchors",
                              anchor_renderer=broken_renderer)
    qtbot.addWidget(window)
    window.open_design(write_design(tmp_path / "m", "mushra", n_items=1), show_warnings=False)
    window.start("erin")
    qtbot.waitUntil(lambda: window.error_box is not None)
    assert "filter design failed" in window.error_box.informativeText()  # type: ignore[union-attr]
    assert window.session is None and not window.preparing and window.open_design_button.isEnabled()
    window.error_box.close()  # type: ignore[union-attr]
