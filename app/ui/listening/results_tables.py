"""Tables of the results view, filled from an :class:`~app.core.listening.analysis.Analysis`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from app.core.listening.abx_stats import AbPreference, AbxResult
from app.core.listening.stats import Summary

# The analysis names conditions by id in its multimodality warning; the view shows the design's label instead.
_MULTIMODAL_WARNING = re.compile(r"^(Ratings of )(\S+)( may be multimodal)")

SUMMARY_HEADER = ("Condition", "n", "Mean", "95 % CI", "Median", "IQR", "Outliers")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def new_table(header: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(header))
    table.setHorizontalHeaderLabels(list(header))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


def summary_rows(summaries: Mapping[str, Summary], labels: Mapping[str, str], digits: int = 1) -> list[list[str]]:
    return [[labels.get(c, c), str(s.n), _fmt(s.mean, digits), f"{_fmt(s.ci_low, digits)} to {_fmt(s.ci_high, digits)}",
             _fmt(s.median, digits), _fmt(s.iqr, digits), str(s.n_outliers)] for c, s in summaries.items()]


def item_rows(
    items: Mapping[str, Mapping[str, Summary]], labels: Mapping[str, str], digits: int = 1
) -> list[list[str]]:
    return [[item, labels.get(c, c), str(s.n), _fmt(s.mean, digits), _fmt(s.median, digits), _fmt(s.iqr, digits)]
            for item, by_condition in items.items() for c, s in by_condition.items()]


ITEM_HEADER = ("Item", "Condition", "n", "Mean", "Median", "IQR")
ABX_HEADER = ("Listener", "Condition", "Correct", "Don't know", "p", "k for p≤.05", "Power 70 %", "Power 80 %",
              "Result")
AB_HEADER = ("Listener", "Condition", "Trials", "Preferred the condition", "p (two-sided)")


def abx_rows(results: Sequence[AbxResult], labels: Mapping[str, str]) -> list[list[str]]:
    return [[r.listener or "all (pooled)", labels.get(r.condition, r.condition), f"{r.n_correct}/{r.n_trials}",
             str(r.n_dont_know), f"{r.p_value:.4f}", str(r.critical_05 or "-"), _fmt(r.power_70, 2),
             _fmt(r.power_80, 2), "heard a difference" if r.significant else "not shown"] for r in results]


def ab_rows(results: Sequence[AbPreference], labels: Mapping[str, str]) -> list[list[str]]:
    return [[r.listener or "all (pooled)", labels.get(r.condition, r.condition), str(r.n_trials),
             str(r.n_prefer_condition), f"{r.p_value:.4f}"] for r in results]


def labelled_warning(warning: str, labels: Mapping[str, str]) -> str:
    """``warning`` with a condition id it names replaced by the condition's label (where the design gives one)."""
    return _MULTIMODAL_WARNING.sub(lambda m: m.group(1) + labels.get(m.group(2), m.group(2)) + m.group(3), warning)
