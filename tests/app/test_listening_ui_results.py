"""The results view on a small database (per-condition table, screening, exports, merge), the Tests menu, and
AB / BS.1116 pages taken through the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_testing import FAKE_DEVICE, FakeStream
from listening_fixtures import fake_anchor, write_design
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from app.audio.engine import PlaybackEngine
from app.core.listening.design_parse import load_design
from app.core.listening.exports import read_tidy_csv
from app.core.listening.results_merge import export_results
from app.core.listening.session_start import start_session
from app.core.listening.storage import Storage
from app.ui.listening.abx_page import AbPage
from app.ui.listening.bs1116_page import Bs1116Page
from app.ui.listening.menu import install_listening_menu
from app.ui.listening.results_view import ResultsWindow
from app.ui.listening.runner import TestRunnerWindow

SCORES = {"reference": 100.0, "anchor_lp70": 50.0, "anchor_lp35": 20.0, "c1": 40.0, "c2": 70.0}


def _mushra_db(tmp_path: Path, listeners: dict[str, float]) -> tuple[Storage, Path]:
    """Every listener rates every page: SCORES shifted by the listener's offset (the reference stays as given)."""
    design_path = write_design(tmp_path / "mushra", "mushra", options={"training": False})
    design = load_design(design_path)
    storage = Storage(tmp_path / "ratings.sqlite")
    for listener, offset in listeners.items():
        session = start_session(storage, design, listener, anchor_dir=tmp_path / "anchors", anchor_renderer=fake_anchor)
        while not session.finished:
            for signal in session._signals()[1]:
                session.note_play(signal.stimulus.key)
                shift = offset if signal.condition != "reference" else min(offset, 0.0)
                session.rate(signal.stimulus.key, max(0.0, min(100.0, SCORES[signal.condition] + shift)))
            session.advance()
    return storage, design_path


def _table(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_results_view_shows_per_condition_table_screening_and_exports(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    storage, design_path = _mushra_db(tmp_path, {"ann": 0.0, "ben": 10.0, "cat": -30.0})
    view = ResultsWindow(storage)
    qtbot.addWidget(view)
    assert view.test_id == "test-mushra" and view.summary_label.text().startswith("30 answers from 3")
    rows = {r[0]: r for r in _table(view.condition_table)}
    # cat rated the hidden reference 70 on every item: excluded by post-screening, so ann and ben remain.
    assert set(rows) == {"Hidden reference", "Anchor 7 kHz", "Anchor 3.5 kHz", "Codec c1", "Codec c2"}
    assert rows["Codec c1"][1:3] == ["4", "45.0"] and rows["Codec c2"][2] == "75.0"
    assert rows["Hidden reference"][4] == "100.0"
    assert view.plot.n_conditions == 5
    assert len(_table(view.item_table)) == 10  # 2 items x 5 conditions
    screening = view.screening_text.toPlainText()
    assert "cat: excluded" in screening and "ann: kept" in screening
    # Exports go through the core writers and hold the answers.
    csv_rows = read_tidy_csv(view.export_csv(tmp_path / "tidy.csv"))
    assert len(csv_rows) == 30 and {r.listener for r in csv_rows} == {"ann", "ben", "cat"}
    assert "Codec c1" in view.export_report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert [p.name for p in view.export_webmushra(tmp_path / "web")] == ["mushra.csv"]
    assert '"rows"' in view.export_json(tmp_path / "r.json").read_text(encoding="utf-8")
    bundle = view.export_bundle(design_path, tmp_path / "test.zip")
    assert bundle.is_file()
    # Import another machine's file into the database: its answers come in once, our own ones are already there.
    other, _ = _mushra_db(tmp_path / "other", {"dan": 5.0})
    theirs = export_results(other, tmp_path / "dan.json")
    ours = export_results(storage, tmp_path / "ours.csv")
    report = view.import_results([theirs, ours])
    assert (report.n_imported, report.n_present) == (10, 30) and not report.conflicts
    assert {r.listener for r in view.rows} == {"ann", "ben", "cat", "dan"}
    assert "10 answers imported, 30 already present" in view.merge_text.toPlainText()
    storage.close()
    other.close()


def test_tests_menu_opens_runner_and_results(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = install_listening_menu(window, db_path=tmp_path / "db.sqlite", bundles_dir=tmp_path / "bundles")
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Tests" in titles
    runner = menu.open_runner()
    assert isinstance(runner, TestRunnerWindow) and not runner.player.available  # no engine: a notice, no crash
    assert runner.notices.has_notice("no-audio")
    results = menu.open_results()
    assert results.test_combo.count() == 0
    runner.close()
    menu.storage.close()


@pytest.fixture
def runner(qtbot, tmp_path: Path) -> TestRunnerWindow:  # type: ignore[no-untyped-def]
    storage = Storage(tmp_path / "ratings.sqlite")
    window = TestRunnerWindow(storage, PlaybackEngine(FAKE_DEVICE, stream_factory=FakeStream), tmp_path / "bundles")
    qtbot.addWidget(window)
    yield window
    storage.close()


def _begin(qtbot, runner: TestRunnerWindow, design_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner.open_design(design_path)
    qtbot.keyClicks(runner.listener_edit, "eve")
    qtbot.mouseClick(runner.start_button, Qt.MouseButton.LeftButton)


def test_ab_preference_through_the_widgets(qtbot, runner: TestRunnerWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _begin(qtbot, runner, write_design(tmp_path / "ab", "ab", n_items=1, conditions=("c1", "c2"),
                                       options={"trials_per_item": 2, "baseline": "c1"}))
    page, session = runner.page_widget, runner.session
    assert isinstance(page, AbPage) and session is not None
    preferred = []
    while not session.finished:
        qtbot.keyClick(page, "1")
        qtbot.keyClick(page, "2")
        right_is = session._signals()[1][1].condition
        qtbot.mouseClick(page.answer_buttons["right"], Qt.MouseButton.LeftButton)
        preferred.append("B" if right_is == "c2" else "A")  # B: preferred the condition over the baseline
        qtbot.mouseClick(runner.next_button, Qt.MouseButton.LeftButton)
    rows = runner.storage.tidy_rows()
    assert [r.answer for r in rows] == preferred and all(r.n_switches == 1 for r in rows)


def test_bs1116_grades_through_the_widgets(qtbot, runner: TestRunnerWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _begin(qtbot, runner, write_design(tmp_path / "bs", "bs1116", n_items=1, conditions=("c1",)))
    page, session = runner.page_widget, runner.session
    assert isinstance(page, Bs1116Page) and session is not None
    assert all(s.rating is None for s in page.sliders.values()) and not runner.next_button.isEnabled()
    for key in ("r", "a", "b"):
        qtbot.keyClick(page, key)
    hidden = {s.stimulus.key: s.condition for s in session._signals()[1]}
    page.sliders["A"].slider.setValue(37)  # 3.7
    assert not runner.next_button.isEnabled()
    page.sliders["B"].slider.setValue(50)
    qtbot.mouseClick(runner.next_button, Qt.MouseButton.LeftButton)
    assert session.finished
    grades = {r.condition: r.rating for r in runner.storage.tidy_rows()}
    assert grades == {hidden["A"]: 3.7, hidden["B"]: 5.0}


def test_runner_opens_a_bundle_once_and_refuses_a_broken_one(runner: TestRunnerWindow, tmp_path: Path) -> None:
    from app.core.listening.bundle import export_bundle

    design = load_design(write_design(tmp_path / "src", "abx", n_items=1, conditions=("c1",),
                                      options={"trials_per_item": 10}))
    bundle = export_bundle(design, tmp_path / "test.zip")
    opened = runner.open_bundle(bundle)
    assert opened is not None and opened.id == design.id
    assert opened.base_dir.parent == (tmp_path / "bundles").resolve()
    assert runner.open_bundle(bundle).base_dir == opened.base_dir  # reused, not unpacked again
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bundle.read_bytes()[:-40])
    assert runner.open_bundle(broken) is None and runner.notices.has_notice("open")
    assert sorted(p.name for p in (tmp_path / "bundles").iterdir()) == [opened.base_dir.name]
