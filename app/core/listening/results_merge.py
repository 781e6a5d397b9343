"""Result files from many listeners: export one machine's answers, merge many files without duplicates.

A result file is the JSON export (:func:`app.core.listening.exports.write_json`) or a tidy CSV. Rows are keyed on
(test_id, listener, session, page, trial, item, condition), the same key as the storage's UNIQUE constraint:
identical rows under one key collapse into one; rows that differ under one key are conflicts, reported with both
versions (the first file's row is kept, so the order of ``paths`` decides).

Merging stays at the row level: the storage has no API to insert tidy rows without the sessions they came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app.core.listening.exports import read_json_rows, read_tidy_csv, write_json, write_tidy_csv
from app.core.listening.records import TidyRow

RowKey = tuple[str, str, str, int, int, str, str]


class HasTidyRows(Protocol):
    def tidy_rows(self, test_id: str | None = None) -> list[TidyRow]: ...


def row_key(row: TidyRow) -> RowKey:
    """The identity of an answer across files."""
    return (row.test_id, row.listener, row.session, row.page, row.trial, row.item, row.condition)


def export_results(source: HasTidyRows | Iterable[TidyRow], path: str | Path, test_id: str | None = None) -> Path:
    """Write the answers of a storage (or a row list) to ``path``: tidy CSV for ``.csv``, else JSON."""
    rows = source.tidy_rows(test_id) if hasattr(source, "tidy_rows") else list(source)  # type: ignore[union-attr]
    if test_id is not None:
        rows = [r for r in rows if r.test_id == test_id]
    path = Path(path)
    return write_tidy_csv(rows, path) if path.suffix.lower() == ".csv" else write_json(rows, path)


def read_results(path: str | Path) -> list[TidyRow]:
    """The rows of one result file (JSON export or tidy CSV); ValueError if it is neither."""
    path = Path(path)
    return read_tidy_csv(path) if path.suffix.lower() == ".csv" else read_json_rows(path)


@dataclass(frozen=True)
class Conflict:
    """Two different answers under one key: ``kept`` (from ``kept_from``) and ``dropped`` (from ``dropped_from``)."""

    key: RowKey
    kept: TidyRow
    dropped: TidyRow
    kept_from: str
    dropped_from: str

    def describe(self) -> str:
        changed = [name for name, value in self.kept.as_dict().items() if self.dropped.as_dict()[name] != value]
        return (f"{'/'.join(str(k) for k in self.key)}: {self.kept_from} and {self.dropped_from} differ in "
                f"{', '.join(changed)}")


@dataclass(frozen=True)
class MergeResult:
    """The merged rows (sorted by key), how many identical duplicates collapsed, and the conflicts."""

    rows: list[TidyRow]
    n_duplicates: int
    conflicts: list[Conflict] = field(default_factory=list)


def merge_rows(sources: Sequence[tuple[str, Iterable[TidyRow]]]) -> MergeResult:
    """Merge (name, rows) pairs: identical duplicates collapse, differing duplicates become conflicts."""
    kept: dict[RowKey, tuple[TidyRow, str]] = {}
    duplicates = 0
    conflicts: list[Conflict] = []
    for name, rows in sources:
        for row in rows:
            key = row_key(row)
            if key not in kept:
                kept[key] = (row, name)
            elif kept[key][0] == row:
                duplicates += 1
            else:
                conflicts.append(Conflict(key, kept[key][0], row, kept[key][1], name))
    merged = [kept[key][0] for key in sorted(kept)]
    return MergeResult(merged, duplicates, conflicts)


def merge_results(paths: Iterable[str | Path]) -> MergeResult:
    """Read and merge result files (see :func:`merge_rows`)."""
    return merge_rows([(str(p), read_results(p)) for p in paths])
