"""Result files from many listeners: export one machine's answers, merge many files without duplicates.

A result file is the JSON export (:func:`app.core.listening.exports.write_json`) or a tidy CSV. Rows are keyed on
(test_id, listener, session, page, trial, item, condition), the same key as the storage's UNIQUE constraint:
identical rows under one key collapse into one; rows that differ under one key are conflicts, reported with both
versions (the first file's row is kept, so the order of ``paths`` decides).

This module merges at the row level, in memory; :mod:`app.core.listening.storage_import` writes result files into the
ratings database (with their sessions and listeners) so that they stay there.
"""

from __future__ import annotations

import csv
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


MAX_RESULTS_BYTES = 64 * 1024 * 1024
"""Larger result files are refused unread (a tidy row takes about 150 bytes: this is over 400,000 answers)."""


def read_results(path: str | Path) -> list[TidyRow]:
    """The rows of one result file (JSON export or tidy CSV); ValueError naming the file if it is neither, is too
    large or is malformed. Field types are not checked here (see ``storage_import``); OSError if it cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_RESULTS_BYTES:
        raise ValueError(f"{path.name}: {size} bytes is larger than a results file may be ({MAX_RESULTS_BYTES})")
    try:
        return read_tidy_csv(path) if path.suffix.lower() == ".csv" else read_json_rows(path)
    except ValueError as exc:  # includes JSON and UTF-8 decoding errors
        if str(exc).startswith(str(path)):
            raise ValueError(f"{path.name}{str(exc)[len(str(path)):]}") from exc
        raise ValueError(f"{path.name}: not a readable results file ({exc})") from exc
    except (KeyError, TypeError, AttributeError, csv.Error, RecursionError) as exc:  # malformed structure
        raise ValueError(f"{path.name}: not a readable results file ({type(exc).__name__}: {exc})") from exc


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
