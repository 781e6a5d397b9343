"""The conditions table: key, name, requested and achieved bitrate, lag, loudness deviation, true peak, metrics."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.core.conditions import MAX_KEYED_ROWS, ConditionList, ConditionRow, RowState

_Index = QModelIndex | QPersistentModelIndex

#: (header, tooltip) per column.
COLUMNS = (
    ("Key", "Press this key to hear the condition (0 or R: the original)"),
    ("Condition", "What was rendered"),
    ("Requested kbps", "The bitrate asked for"),
    ("Achieved kbps", "The bits the encoded stream really spent per second"),
    ("Lag ms", "Delay measured against the original and removed (positive: the condition was late)"),
    ("Loudness dev LU", "Integrated loudness (BS.1770) minus the original's"),
    ("True peak dBTP", "4x oversampled peak; above 0 clips on playback"),
    ("Mel dist", "Multi-scale mel distance (lower is closer)"),
    ("SI-SDR dB", "Scale-invariant signal-to-distortion ratio (higher is closer)"),
    ("ViSQOL", "ViSQOL audio-mode MOS-LQO, 1-5 (for long clips: Conditions > Compute ViSQOL for all rows)"),
    ("Status", "Rendering state"),
)
METRIC_COLUMNS = {7: "mel_distance", 8: "si_sdr", 9: "visqol"}


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.{digits}f}"


def row_cells(index: int, row: ConditionRow) -> list[str]:
    """The display text of every column of a row (also what the CSV export writes)."""
    spec, analysis = row.spec, row.analysis
    key = str(index + 1) if index < MAX_KEYED_ROWS else ""
    requested = f"{spec.requested_kbps:g}" if spec.requested_kbps else "—"
    status = {RowState.PENDING: "pending", RowState.RENDERING: "rendering…", RowState.FAILED: "failed"}.get(
        row.state, ""
    )
    if analysis is None:
        return [key, spec.label, requested, "", "", "", "", "", "", "", row.error or status]
    done = "cached" if analysis.from_cache else f"{analysis.elapsed_s:.1f} s"
    return [
        key,
        spec.label,
        requested,
        _number(analysis.achieved_kbps, 2),
        _number(analysis.lag_ms, 2),
        _number(analysis.loudness_deviation_lu, 2),
        _number(analysis.true_peak_dbtp, 2),
        _number(analysis.metrics.get("mel_distance"), 3),
        _number(analysis.metrics.get("si_sdr"), 2),
        _number(analysis.metrics.get("visqol"), 2),
        done,
    ]


class ConditionsModel(QAbstractTableModel):
    """A read-only view of a :class:`ConditionList`; call :meth:`refresh` after changing the list."""

    def __init__(self, conditions: ConditionList, parent: Any = None) -> None:
        super().__init__(parent)
        self.conditions = conditions

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.conditions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.conditions.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row_cells(index.row(), row)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and row.error:
            return row.error
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in (1, 10):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def refresh(self) -> None:
        """Redraw everything (rows may have been added, removed or finished)."""
        self.beginResetModel()
        self.endResetModel()

    def refresh_row(self, row: int) -> None:
        """Redraw one row."""
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


class ConditionsTable(QTableView):
    """The table widget; emits ``row_selected(int)`` (-1 for none) when the selection changes.

    Keyboard focus is kept off it, so Space, digits and arrows stay the window's shortcuts.
    """

    row_selected = Signal(int)

    def __init__(self, model: ConditionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.selectionModel().selectionChanged.connect(self._on_selection)
        model.modelReset.connect(self._reconnect)

    def _reconnect(self) -> None:
        self.row_selected.emit(self.selected_row())

    def _on_selection(self, *_args: object) -> None:
        self.row_selected.emit(self.selected_row())

    def selected_row(self) -> int:
        """The selected row, or -1."""
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def select_row(self, row: int) -> None:
        """Select ``row`` (or clear the selection with -1)."""
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)
