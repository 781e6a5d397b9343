"""Tests › New Test from Workspace… (pytest-qt, offscreen): the dialog on a fake workspace writes a design the loader
accepts, shows the design helper and warnings, and the menu opens the saved test in the runner."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMainWindow
from test_listening_from_workspace import MODEL_6, OPUS_12, RATE_HZ, _audio

from app.core.clip import Clip
from app.core.conditions import ANCHOR, MODEL, ConditionAnalysis, ConditionList, ConditionSpec
from app.core.listening.design_parse import load_design
from app.core.listening.from_workspace import WorkspaceItem, WorkspaceState
from app.ui.listening.menu import install_listening_menu
from app.ui.listening.new_test_dialog import NewTestDialog

LOWPASS_7 = ConditionSpec(ANCHOR, 7.0)


def _state(tmp_path: Path, specs: tuple[ConditionSpec, ...] = (MODEL_6, OPUS_12), rendered: int | None = None,
           duration_s: float = 0.05) -> WorkspaceState:
    renders = {spec: _audio(n + 1, duration_s) for n, spec in enumerate(specs[:rendered])}
    item = WorkspaceItem("drums.wav", _audio(0, duration_s), RATE_HZ, renders, source=tmp_path / "drums.wav")
    return WorkspaceState((item,), specs)


def _ok(dialog: NewTestDialog):  # type: ignore[no-untyped-def]
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_dialog_writes_a_design_the_loader_accepts(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = NewTestDialog(_state(tmp_path, (MODEL_6, OPUS_12, LOWPASS_7), rendered=2))
    qtbot.addWidget(dialog)
    # Rendered conditions are checked; one still rendering cannot be chosen yet.
    states = [dialog.conditions_list.item(r).checkState() for r in range(3)]
    assert states == [Qt.CheckState.Checked, Qt.CheckState.Checked, Qt.CheckState.Unchecked]
    assert "(not rendered)" in dialog.conditions_list.item(2).text()
    assert dialog.seed_spin.value() > 0  # a random seed, shown
    assert Path(dialog.path_edit.text()) == tmp_path / "drums-listening-test.yaml"  # beside the item by default
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("abx"))
    assert dialog.trials_spin.isEnabled()
    dialog.trials_spin.setValue(12)
    dialog.seed_spin.setValue(4242)
    dialog.path_edit.setText(str(tmp_path / "tests" / "drums_abx"))
    created = []
    dialog.design_created.connect(created.append)
    qtbot.mouseClick(_ok(dialog), Qt.MouseButton.LeftButton)
    path = tmp_path / "tests" / "drums_abx.yaml"
    design = load_design(path)
    assert created == [design] and dialog.result() == NewTestDialog.DialogCode.Accepted
    assert (design.type, design.seed, design.name) == ("abx", 4242, "drums listening test")
    assert list(design.conditions) == ["encodec_24khz_6kbps", "opus_12kbps"]
    assert design.options.trials_per_item == 12  # type: ignore[union-attr]


def test_dialog_shows_the_design_helper_and_warnings(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = NewTestDialog(_state(tmp_path, duration_s=12.5))
    qtbot.addWidget(dialog)
    assert dialog.type_combo.currentData() == "mushra" and not dialog.trials_spin.isEnabled()
    assert "about 5 items" in dialog.advice_label.text() and "5 signals per page" in dialog.advice_label.text()
    warnings = dialog.warnings_label.text()
    assert "excerpt is 12.5 s" in warnings and "1 item(s) for 2 systems" in warnings
    assert _ok(dialog).isEnabled()  # warnings do not block
    # Too many signals on a MUSHRA page blocks OK and says why.
    many = tuple(ConditionSpec(MODEL, float(k), "m", "M") for k in range(1, 11))
    crowded = NewTestDialog(_state(tmp_path, many))
    qtbot.addWidget(crowded)
    assert "13 signals" in crowded.warnings_label.text() and "at most 12" in crowded.warnings_label.text()
    assert not _ok(crowded).isEnabled()
    crowded.conditions_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert _ok(crowded).isEnabled() and "at most 12" not in crowded.warnings_label.text()
    # Short ABX rounds are flagged too.
    crowded.type_combo.setCurrentIndex(crowded.type_combo.findData("abx"))
    crowded.trials_spin.setValue(5)
    assert "10-25" in crowded.warnings_label.text()


def test_tests_menu_designs_from_the_workspace_and_opens_the_runner(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    qtbot.addWidget(window)
    window.workspace = SimpleNamespace(clip=None, conditions=ConditionList([MODEL_6]))  # type: ignore[attr-defined]
    menu = install_listening_menu(window, db_path=tmp_path / "db.sqlite", bundles_dir=tmp_path / "bundles")
    assert menu.new_test_action.text() == "&New Test from Workspace…" and not menu.new_test_action.isEnabled()
    assert menu.open_new_test() is None  # no item loaded
    clip = Clip(tmp_path / "song.wav", _audio(0), RATE_HZ, "0" * 64)
    window.workspace.conditions.set_analysis(0, ConditionAnalysis(MODEL_6, _audio(1), 6.0, 0, RATE_HZ, 0.0, -3.0))
    window.workspace.clip = clip  # type: ignore[attr-defined]
    menu.update_actions()
    assert menu.new_test_action.isEnabled()
    dialog = menu.open_new_test()
    assert dialog is not None and dialog.start_check.isChecked()
    dialog.path_edit.setText(str(tmp_path / "song_test.yaml"))
    dialog.accept()
    runner = menu.runner
    assert runner is not None and runner.design is not None
    assert runner.design.source == (tmp_path / "song_test.yaml").resolve()
    assert runner.warnings_box is None  # the researcher saw the warnings in the dialog
    runner.close()
    menu.storage.close()
