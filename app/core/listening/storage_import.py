"""Import result files from other EarBench installations into the ratings database, without duplicates.

A result file (JSON export or tidy CSV, read by :func:`~app.core.listening.results_merge.read_results`) holds tidy
rows. Each row is checked against the test stored here (its type, items and conditions; the test must be in this
database already), then its listener, session and answer are inserted. Identity comes from the keys the schema
already has: a session's id (a UUID made where it was taken) and an answer's
``UNIQUE(session, page, trial, item, condition)``. So importing a file twice, or files that overlap, adds each answer
once; an answer already stored with other values is a conflict, reported, and the stored version is kept.

All the files of one import go in one transaction: a file that cannot be read or holds one bad row writes nothing.
Provenance: each import that adds answers gets an ``imports`` row (file name, SHA-256, time, count) and the sessions
and answers it brought carry its id (schema version 3). Imported sessions get the next free session numbers of
their test here (each machine numbers its own sessions from 1), have no randomisation record, and are marked
finished so that they are never resumed on this machine.

The report of an import (answers added, already present, conflicting) is in
:mod:`app.core.listening.storage_import_report`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.errors import StorageError
from app.core.listening.design import RESERVED_IDS
from app.core.listening.records import TidyRow
from app.core.listening.results_merge import Conflict, read_results, row_key
from app.core.listening.storage import Storage
from app.core.listening.storage_import_report import FileImport, ImportReport
from app.core.listening.storage_records import utc_now

IMPORTED_APP_VERSION = "imported"
_SESSION_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_NAME_CHARS = 200
_MAX_COUNT = 10**6
_MAX_TIME_MS = 10**10
_RATING_RANGE = {"mushra": (0.0, 100.0), "bs1116": (1.0, 5.0)}
_CHOICES = {"abx": {"A", "B", "dont_know"}, "ab": {"A", "B"}}
_STORED = ("rating", "answer", "correct", "time_ms", "n_plays", "n_switches", "answered_at")


class ResultImportError(StorageError):
    """A result file that cannot be imported; nothing of the import was written."""


def import_result_files(storage: Storage, paths: Iterable[str | Path]) -> ImportReport:
    """Read result files (JSON or tidy CSV) and import them in one transaction; raises
    :class:`ResultImportError` naming the file (and row) at fault, with nothing written."""
    loaded = []
    for path in paths:
        path = Path(path)
        try:
            rows = read_results(path)
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        except ValueError as exc:  # its message starts with the file's name
            raise ResultImportError(f"cannot import {exc}") from exc
        except OSError as exc:
            raise ResultImportError(f"cannot import {path.name}: {exc.strerror or exc}") from exc
        loaded.append((path.name, sha256, rows))
    with storage.transaction() as conn:
        return ImportReport(tuple(_import_rows(conn, name, sha256, rows) for name, sha256, rows in loaded))


def import_result_rows(storage: Storage, rows: Sequence[TidyRow], source: str, sha256: str = "") -> ImportReport:
    """Import rows that did not come from a file (``source`` names them in the report and the provenance)."""
    with storage.transaction() as conn:
        return ImportReport((_import_rows(conn, source, sha256, rows),))


# ---------------------------------------------------------------- one file, inside the transaction
@dataclass
class _Test:
    type: str
    items: set[str]
    conditions: set[str]


def _import_rows(conn: sqlite3.Connection, source: str, sha256: str, rows: Sequence[TidyRow]) -> FileImport:
    tests: dict[str, _Test] = {}
    for index, row in enumerate(rows):
        where = f"{source}, row {index + 1}"
        if not isinstance(row.test_id, str) or row.test_id not in tests:
            tests[_text(row.test_id, where, "test_id")] = _stored_test(conn, row.test_id, source)
        _check_row(row, tests[row.test_id], where)
    sessions = _sessions_of(rows, source)
    conn.execute("INSERT INTO imports (file_name, file_sha256, imported_at, n_answers) VALUES (?, ?, ?, 0)",
                 (source, sha256, utc_now()))
    import_id = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
    n_new_sessions = sum(_ensure_session(conn, sid, info, import_id, source) for sid, info in sessions.items())
    added = present = 0
    conflicts: list[Conflict] = []
    for row in rows:
        if _insert_answer(conn, row, import_id):
            added += 1
            continue
        stored = _stored_answer(conn, row)
        if stored == row:
            present += 1
        else:
            conflicts.append(Conflict(row_key(row), stored, row, "this database", source))
    if added:
        conn.execute("UPDATE imports SET n_answers = ? WHERE id = ?", (added, import_id))
    else:
        conn.execute("DELETE FROM imports WHERE id = ?", (import_id,))
    return FileImport(source, added, present, n_new_sessions, tuple(conflicts))


def _stored_test(conn: sqlite3.Connection, test_id: str, source: str) -> _Test:
    row = conn.execute("SELECT type, design_json FROM tests WHERE id = ?", (test_id,)).fetchone()
    if row is None:
        raise ResultImportError(
            f"{source}: test {test_id!r} is not in this database; open its design or bundle in the test runner once "
            "(Tests menu), then import its results again"
        )
    design = json.loads(row[1])
    items = {str(item["id"]) for item in design["items"]}
    return _Test(row[0], items, set(design["conditions"]) | set(RESERVED_IDS))


@dataclass
class _SessionInfo:
    test_id: str
    listener: str
    first_at: str
    last_at: str


def _sessions_of(rows: Sequence[TidyRow], source: str) -> dict[str, _SessionInfo]:
    """Each session of the file with its test, listener and answer-time span; one session, one test and listener."""
    sessions: dict[str, _SessionInfo] = {}
    for row in rows:
        info = sessions.get(row.session)
        if info is None:
            sessions[row.session] = _SessionInfo(row.test_id, row.listener, row.answered_at, row.answered_at)
        elif (info.test_id, info.listener) != (row.test_id, row.listener):
            raise ResultImportError(
                f"{source}: session {row.session} appears with two tests or listeners "
                f"({info.test_id}/{info.listener} and {row.test_id}/{row.listener})"
            )
        else:
            info.first_at, info.last_at = min(info.first_at, row.answered_at), max(info.last_at, row.answered_at)
    return dict(sorted(sessions.items(), key=lambda kv: (kv[1].first_at, kv[0])))


def _ensure_session(conn: sqlite3.Connection, session_id: str, info: _SessionInfo, import_id: int,
                    source: str) -> bool:
    """Create the session unless stored; True when created. A stored one must belong to the same test and
    listener (session ids are UUIDs, so anything else is a corrupt or forged file)."""
    stored = conn.execute(
        "SELECT s.test_id, l.name FROM sessions s JOIN listeners l ON l.id = s.listener_id WHERE s.id = ?",
        (session_id,),
    ).fetchone()
    if stored is not None:
        if tuple(stored) != (info.test_id, info.listener):
            raise ResultImportError(
                f"{source}: session {session_id} is stored here as {stored[0]}/{stored[1]}, "
                f"the file says {info.test_id}/{info.listener}"
            )
        conn.execute(
            "UPDATE sessions SET started_at = min(started_at, ?), finished_at = max(finished_at, ?) "
            "WHERE id = ? AND import_id IS NOT NULL",
            (info.first_at, info.last_at, session_id),
        )
        return False
    conn.execute("INSERT OR IGNORE INTO listeners (name, created_at) VALUES (?, ?)", (info.listener, utc_now()))
    listener_id = conn.execute("SELECT id FROM listeners WHERE name = ?", (info.listener,)).fetchone()[0]
    number = 1 + conn.execute(
        "SELECT coalesce(max(session_number), 0) FROM sessions WHERE test_id = ?", (info.test_id,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO sessions (id, test_id, listener_id, session_number, randomisation_json, started_at, "
        "finished_at, app_version, model_versions_json, import_id) VALUES (?, ?, ?, ?, '{}', ?, ?, ?, '{}', ?)",
        (session_id, info.test_id, listener_id, number, info.first_at, info.last_at, IMPORTED_APP_VERSION,
         import_id),
    )
    return True


def _insert_answer(conn: sqlite3.Connection, row: TidyRow, import_id: int) -> bool:
    cursor = conn.execute(
        "INSERT INTO answers (session_id, page, trial, item, condition, rating, answer, correct, time_ms, n_plays, "
        "n_switches, answered_at, import_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (session_id, page, trial, item, condition) DO NOTHING",
        (row.session, row.page, row.trial, row.item, row.condition, row.rating, row.answer,
         None if row.correct is None else int(row.correct), row.time_ms, row.n_plays, row.n_switches,
         row.answered_at, import_id),
    )
    return cursor.rowcount == 1


def _stored_answer(conn: sqlite3.Connection, row: TidyRow) -> TidyRow:
    """The stored answer under ``row``'s key, as a row that equals ``row`` when nothing differs."""
    values = conn.execute(
        f"SELECT {', '.join(_STORED)} FROM answers WHERE session_id = ? AND page = ? AND trial = ? AND item = ? "
        "AND condition = ?",
        (row.session, row.page, row.trial, row.item, row.condition),
    ).fetchone()
    stored = dict(zip(_STORED, values, strict=True))
    stored["correct"] = None if stored["correct"] is None else bool(stored["correct"])
    return TidyRow(**{**row.as_dict(), **stored})


# ---------------------------------------------------------------- row checks (a file is untrusted input)
def _check_row(row: TidyRow, test: _Test, where: str) -> None:
    if row.test_type != test.type:
        raise ResultImportError(f"{where}: test type {row.test_type!r}, but test {row.test_id!r} is {test.type}")
    listener = _text(row.listener, where, "listener")
    if listener != listener.strip() or any(unicodedata.category(ch) == "Cc" for ch in listener):
        raise ResultImportError(f"{where}: listener name {listener!r} has control characters or edge spaces")
    if not isinstance(row.session, str) or not _SESSION_ID.fullmatch(row.session):
        raise ResultImportError(f"{where}: {row.session!r} is not a session id")
    if row.item not in test.items:
        raise ResultImportError(f"{where}: item {row.item!r} is not in test {row.test_id!r}")
    if row.condition not in test.conditions:
        raise ResultImportError(f"{where}: condition {row.condition!r} is not in test {row.test_id!r}")
    for name, maximum in (("page", _MAX_COUNT), ("trial", _MAX_COUNT), ("n_plays", _MAX_COUNT),
                          ("n_switches", _MAX_COUNT), ("time_ms", _MAX_TIME_MS)):
        value = getattr(row, name)
        if type(value) is not int or not 0 <= value <= maximum:
            raise ResultImportError(f"{where}: {name} {value!r} is not a whole number in [0, {maximum}]")
    _check_outcome(row, test.type, where)
    _check_time(row.answered_at, where)


def _check_outcome(row: TidyRow, test_type: str, where: str) -> None:
    """Rated tests carry a rating in the scale's range; ABX/AB a choice (and ABX whether it was correct)."""
    if test_type in _RATING_RANGE:
        low, high = _RATING_RANGE[test_type]
        value: Any = row.rating
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and low <= value <= high
        ):
            raise ResultImportError(f"{where}: rating {value!r} is not a number in [{low:g}, {high:g}]")
        if row.answer is not None or row.correct is not None:
            raise ResultImportError(f"{where}: a {test_type} answer has a rating, not a choice")
        return
    if row.rating is not None or row.answer not in _CHOICES[test_type]:
        raise ResultImportError(f"{where}: a {test_type} answer is one of {sorted(_CHOICES[test_type])}")
    expected_correct = test_type == "abx" and row.answer != "dont_know"
    if (row.correct is not None) != expected_correct or not isinstance(row.correct, (bool, type(None))):
        raise ResultImportError(f"{where}: 'correct' is {row.correct!r} for a {test_type} answer {row.answer!r}")


def _check_time(value: Any, where: str) -> None:
    text = _text(value, where, "answered_at")
    try:
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)  # 3.10 reads no "Z"
    except ValueError:
        raise ResultImportError(f"{where}: answered_at {text!r} is not an ISO 8601 time") from None


def _text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_NAME_CHARS:
        raise ResultImportError(f"{where}: {name} must be text of 1 to {_MAX_NAME_CHARS} characters")
    return value
