"""*Tests › New Test from Workspace…*: design a listening test from the workspace's item and rendered conditions.

The researcher picks the test type, a name, the conditions (all rendered ones checked), ABX trials, the seed and
where to save; the design helper (items BS.1534-3 asks for, signals per MUSHRA page) and the design's warnings are
shown while choosing. OK writes the design YAML and its audio (:func:`build_design`) and emits ``design_created``.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.conditions import ConditionSpec
from app.core.errors import EarBenchError
from app.core.listening.design import ABX_TRIALS_DEFAULT, TestDesign, design_warnings
from app.core.listening.from_workspace import (
    TEST_TYPE_NAMES,
    DesignAdvice,
    NewTest,
    WorkspaceState,
    advise,
    build_design,
    design_path_for,
    make_id,
    random_seed,
)

DESIGN_FILTER = "Listening-test designs (*.yaml *.yml)"
_SPEC_ROLE = Qt.ItemDataRole.UserRole


class NewTestDialog(QDialog):
    """Designs a test from ``state`` and writes it under ``folder`` (default: the item's folder).

    Signals
    -------
    design_created(object)
        The :class:`TestDesign` just written (its ``source`` is the YAML file).
    """

    design_created = Signal(object)

    def __init__(self, state: WorkspaceState, folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New listening test from the workspace")
        self.state = state
        self.design: TestDesign | None = None
        self.advice: DesignAdvice | None = None
        source = state.items[0].source if state.items else None
        self.folder = folder or (source.parent if source is not None else Path.home())
        self._path_edited = False
        self._build()
        self._refresh()

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        self.type_combo = QComboBox()
        for test_type, title in TEST_TYPE_NAMES.items():
            self.type_combo.addItem(title, test_type)
        self.type_combo.setCurrentIndex(self.type_combo.findData("mushra"))
        stem = Path(self.state.items[0].name).stem if self.state.items else "workspace"
        self.name_edit = QLineEdit(f"{stem} listening test")
        self.conditions_list = QListWidget()
        for spec in self.state.conditions:
            self.conditions_list.addItem(self._condition_item(spec))
        self.trials_spin = QSpinBox()
        self.trials_spin.setRange(1, 1000)
        self.trials_spin.setValue(ABX_TRIALS_DEFAULT)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, (1 << 31) - 1)
        self.seed_spin.setValue(random_seed())
        new_seed = QPushButton("New seed")
        new_seed.clicked.connect(lambda: self.seed_spin.setValue(random_seed()))
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_path)
        self.advice_label = self._wrapping_label("design_advice")
        self.warnings_label = self._wrapping_label("design_warnings")
        self.start_check = QCheckBox("Open it in the test runner when saved")
        self.start_check.setChecked(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Test type:", self.type_combo)
        form.addRow("Name:", self.name_edit)
        form.addRow("Conditions:", self.conditions_list)
        form.addRow("ABX trials per condition:", self.trials_spin)
        form.addRow("Seed:", _row(self.seed_spin, new_seed))
        form.addRow("Save as:", _row(self.path_edit, browse))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.advice_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self.start_check)
        layout.addWidget(self.buttons)
        self.type_combo.currentIndexChanged.connect(self._refresh)
        self.name_edit.textChanged.connect(self._refresh)
        self.conditions_list.itemChanged.connect(self._refresh)
        self.trials_spin.valueChanged.connect(self._refresh)
        self.path_edit.textChanged.connect(self._path_changed)

    def _condition_item(self, spec: ConditionSpec) -> QListWidgetItem:
        rendered = self.state.is_rendered(spec)
        item = QListWidgetItem(spec.label if rendered else f"{spec.label} (not rendered)")
        item.setData(_SPEC_ROLE, spec)
        flags = Qt.ItemFlag.ItemIsUserCheckable | (Qt.ItemFlag.ItemIsEnabled if rendered else Qt.ItemFlag.NoItemFlags)
        item.setFlags(flags)
        item.setCheckState(Qt.CheckState.Checked if rendered else Qt.CheckState.Unchecked)
        return item

    @staticmethod
    def _wrapping_label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    # ---------------------------------------------------------------- state
    def request(self) -> NewTest:
        """What the dialog's fields ask for."""
        return NewTest(
            name=self.name_edit.text(),
            test_type=str(self.type_combo.currentData()),
            conditions=tuple(self.checked_conditions()),
            seed=self.seed_spin.value(),
            abx_trials=self.trials_spin.value(),
        )

    def checked_conditions(self) -> list[ConditionSpec]:
        items = (self.conditions_list.item(row) for row in range(self.conditions_list.count()))
        return [item.data(_SPEC_ROLE) for item in items if item.checkState() == Qt.CheckState.Checked]

    def design_path(self) -> Path:
        """Where OK writes the YAML."""
        return design_path_for(self.path_edit.text().strip())

    def _path_changed(self) -> None:
        self._path_edited = True  # the automatic path (from the name) is set with signals blocked
        self._refresh()

    def choose_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the test design as", self.path_edit.text(), DESIGN_FILTER)
        if path:
            self.path_edit.setText(str(design_path_for(path)))

    def _refresh(self) -> None:
        request = self.request()
        self.trials_spin.setEnabled(request.test_type == "abx")
        if not self._path_edited:
            self.path_edit.blockSignals(True)
            self.path_edit.setText(str(self.folder / f"{make_id(request.name)}.yaml"))
            self.path_edit.blockSignals(False)
        self.advice = advice = advise(request, self.state)
        self.advice_label.setText(html.escape(advice.helper_text()))
        errors = list(advice.errors)
        if not self.path_edit.text().strip():
            errors.append("choose where to save the design")
        notes = list(advice.warnings)
        if self.path_edit.text().strip() and self.design_path().exists():
            notes.append(f"{self.design_path().name} exists and will be replaced")
        self._show_notes(errors, notes)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not errors)

    def _show_notes(self, errors: list[str], warnings: list[str]) -> None:
        lines = [f'<p style="color:#b00">✖ {html.escape(e)}</p>' for e in errors]
        lines += [f'<p style="color:#a60">⚠ {html.escape(w)}</p>' for w in warnings]
        self.warnings_label.setText("".join(lines))
        self.warnings_label.setVisible(bool(lines))

    # ---------------------------------------------------------------- OK
    def accept(self) -> None:
        """Write the design and its audio; on an error the dialog stays open and says why."""
        try:
            design = build_design(self.request(), self.state, self.design_path())
            warnings = design_warnings(design)
        except (EarBenchError, OSError) as exc:
            self._show_notes([f"The design was not written: {exc}"], [])
            return
        self.design = design
        self._show_notes([], warnings)
        super().accept()
        self.design_created.emit(design)


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QLineEdit | QSpinBox) else 0)
    return holder
