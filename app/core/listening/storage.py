"""The ratings database: one SQLite file (stdlib ``sqlite3``), every answer committed when it is given.

Durability: WAL journal, ``synchronous=FULL`` (a COMMIT is on disk before it returns, power loss included),
foreign keys on, one ``BEGIN IMMEDIATE … COMMIT`` transaction per answer (or per MUSHRA page), and
``UNIQUE(session, page, trial, item, condition)`` with ``ON CONFLICT DO NOTHING``, so a write retried after a crash
never duplicates a row. The schema version is ``PRAGMA user_version``; older databases are migrated forward on
open (:mod:`app.core.listening.migrations`), newer ones are refused.

This module holds :class:`Storage`, the reads and writes; opening and migrating the file is in
:mod:`app.core.listening.storage_connection`, the row dataclasses in :mod:`app.core.listening.storage_records`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from app.core.errors import StorageError
from app.core.listening.design import TestDesign
from app.core.listening.records import TidyRow
from app.core.listening.storage_connection import connect, read_schema_version
from app.core.listening.storage_records import (
    ANSWER_COLUMNS,
    SESSION_COLUMNS,
    Answer,
    SessionRecord,
    StimulusFile,
    answer_from_row,
    session_from_row,
    utc_now,
)

DB_FILE_NAME = "ratings.sqlite"


def default_db_path() -> Path:
    """``<user data dir>/earbench/ratings.sqlite`` (platformdirs); the folder is created when the DB is opened."""
    return Path(platformdirs.user_data_dir("earbench", appauthor=False)) / DB_FILE_NAME


class Storage:
    """An open ratings database. Use one per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._conn = connect(self.path)

    # ---------------------------------------------------------------- connection and schema
    @property
    def schema_version(self) -> int:
        return read_schema_version(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (on disk when it returns), rolled back on any error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The write transaction (see ``_transaction``) for writers kept in their own module (storage_import)."""
        return self._transaction()

    # ---------------------------------------------------------------- tests, stimuli, listeners
    def register_test(self, design: TestDesign, *, anchor_recipe: Mapping[str, Any] | None = None) -> str:
        """Store the design (once); return its id. The same id with a different design is refused: a changed test
        needs a new id, so the results of both never mix."""
        design_hash = design.design_hash()
        row = self._conn.execute("SELECT design_sha256 FROM tests WHERE id = ?", (design.id,)).fetchone()
        if row is not None:
            if row[0] != design_hash:
                raise StorageError(
                    f"test {design.id!r} is already in {self.path} with a different design; give the changed "
                    "design a new id"
                )
            return design.id
        design_json = json.dumps(design.to_mapping(), sort_keys=True, ensure_ascii=False)
        recipe = json.dumps(dict(anchor_recipe), sort_keys=True) if anchor_recipe is not None else None
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO tests (id, name, type, design_json, design_sha256, created_at, "
                "anchor_recipe_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (design.id, design.name, design.type, design_json, design_hash, utc_now(), recipe),
            )
        return design.id

    def design_mapping(self, test_id: str) -> dict[str, Any]:
        """The stored design of a test (``TestDesign.to_mapping()``)."""
        row = self._conn.execute("SELECT design_json FROM tests WHERE id = ?", (test_id,)).fetchone()
        if row is None:
            raise StorageError(f"no test {test_id!r} in {self.path}")
        return json.loads(row[0])

    def record_stimuli(self, test_id: str, stimuli: Iterable[StimulusFile]) -> None:
        """Store the files a test plays. A design file (role ``reference`` or ``condition``) whose contents differ
        from what was stored for the same item and condition is refused: the results would mix two versions of a
        stimulus. For anchors (made again on each machine, float rounding may differ) the first hash is kept."""
        with self._transaction() as conn:
            for f in stimuli:
                if f.role != "anchor":
                    row = conn.execute(
                        "SELECT path, sha256 FROM stimuli WHERE test_id = ? AND item = ? AND condition = ? "
                        "AND sha256 != ? LIMIT 1",
                        (test_id, f.item, f.condition, f.sha256),
                    ).fetchone()
                    if row is not None:
                        raise StorageError(
                            f"{f.path} ({f.item}/{f.condition}) of test {test_id!r} differs from the file the test "
                            f"started with ({row[0]}, SHA-256 {row[1][:12]}…); give the changed test a new id"
                        )
                conn.execute(
                    "INSERT OR IGNORE INTO stimuli (test_id, item, condition, role, path, sha256) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (test_id, f.item, f.condition, f.role, f.path, f.sha256),
                )

    def stimuli(self, test_id: str) -> list[StimulusFile]:
        """A test's stored stimuli, sorted by item, condition and path."""
        rows = self._conn.execute(
            "SELECT path, sha256, role, item, condition FROM stimuli WHERE test_id = ? ORDER BY item, condition, path",
            (test_id,),
        ).fetchall()
        return [StimulusFile(*row) for row in rows]

    def _listener_id(self, conn: sqlite3.Connection, name: str) -> int:
        conn.execute("INSERT OR IGNORE INTO listeners (name, created_at) VALUES (?, ?)", (name, utc_now()))
        return int(conn.execute("SELECT id FROM listeners WHERE name = ?", (name,)).fetchone()[0])

    # ---------------------------------------------------------------- sessions
    def create_session(
        self,
        test_id: str,
        listener: str,
        draw_randomisation: Callable[[int], dict[str, Any]],
        *,
        app_version: str,
        model_versions: Mapping[str, str] | None = None,
        transducer: str | None = None,
    ) -> SessionRecord:
        """Create the next session of a test. ``draw_randomisation(session_number)`` runs inside the transaction
        that takes the number, so two listeners starting at once never get the same number."""
        if not listener.strip():
            raise StorageError("the listener name must not be empty")
        session_id = uuid.uuid4().hex
        with self._transaction() as conn:
            listener_id = self._listener_id(conn, listener)
            number = 1 + int(
                conn.execute("SELECT coalesce(max(session_number), 0) FROM sessions WHERE test_id = ?", (test_id,))
                .fetchone()[0]
            )
            conn.execute(
                "INSERT INTO sessions (id, test_id, listener_id, session_number, randomisation_json, started_at, "
                "app_version, model_versions_json, transducer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id, test_id, listener_id, number, json.dumps(draw_randomisation(number)), utc_now(),
                    app_version, json.dumps(dict(model_versions or {}), sort_keys=True), transducer,
                ),
            )
        return self.session(session_id)

    def session(self, session_id: str) -> SessionRecord:
        row = self._conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id WHERE s.id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"no session {session_id!r} in {self.path}")
        return session_from_row(row)

    def sessions(self, test_id: str | None = None) -> list[SessionRecord]:
        """All sessions (of one test), oldest first."""
        where, args = ("WHERE s.test_id = ?", (test_id,)) if test_id is not None else ("", ())
        rows = self._conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id {where} "
            "ORDER BY s.test_id, s.session_number",
            args,
        ).fetchall()
        return [session_from_row(r) for r in rows]

    def unfinished_session(self, test_id: str, listener: str) -> SessionRecord | None:
        """The latest unfinished session of ``listener`` on the test, if any."""
        row = self._conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id "
            "WHERE s.test_id = ? AND l.name = ? AND s.finished_at IS NULL ORDER BY s.session_number DESC LIMIT 1",
            (test_id, listener),
        ).fetchone()
        return None if row is None else session_from_row(row)

    def mark_training_done(self, session_id: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE sessions SET training_done_at = coalesce(training_done_at, ?) WHERE id = ?",
                (utc_now(), session_id),
            )

    def finish_session(self, session_id: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE sessions SET finished_at = coalesce(finished_at, ?) WHERE id = ?", (utc_now(), session_id)
            )

    # ---------------------------------------------------------------- answers
    def record_answer(self, answer: Answer) -> bool:
        """Commit one answer; returns after COMMIT. False when it was already stored (a retried write)."""
        return self.record_answers([answer]) == 1

    def record_answers(self, answers: Sequence[Answer]) -> int:
        """Commit several answers in one transaction (a MUSHRA page: all its ratings or none); returns after
        COMMIT with the number of new rows (rows already stored are left as they are)."""
        now = utc_now()
        added = 0
        with self._transaction() as conn:
            for a in answers:
                cursor = conn.execute(
                    f"INSERT INTO answers ({ANSWER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (session_id, page, trial, item, condition) DO NOTHING",
                    (
                        a.session_id, a.page, a.trial, a.item, a.condition, a.rating, a.answer,
                        None if a.correct is None else int(a.correct), a.time_ms, a.n_plays, a.n_switches,
                        a.answered_at or now,
                    ),
                )
                added += cursor.rowcount
        return added

    def answers(self, session_id: str) -> list[Answer]:
        """A session's answers in page, trial, condition order."""
        rows = self._conn.execute(
            f"SELECT {ANSWER_COLUMNS} FROM answers WHERE session_id = ? ORDER BY page, trial, condition",
            (session_id,),
        ).fetchall()
        return [answer_from_row(r) for r in rows]

    def answered_trials(self, session_id: str) -> set[tuple[int, int]]:
        """``(page, trial)`` pairs with at least one stored answer."""
        rows = self._conn.execute("SELECT DISTINCT page, trial FROM answers WHERE session_id = ?", (session_id,))
        return {(int(p), int(t)) for p, t in rows}

    def tidy_rows(self, test_id: str | None = None) -> list[TidyRow]:
        """Every answer (of one test) as :class:`TidyRow`, ordered by test, session number, page, trial, condition."""
        where, args = ("WHERE s.test_id = ?", (test_id,)) if test_id is not None else ("", ())
        rows = self._conn.execute(
            "SELECT s.test_id, t.type, t.design_json, l.name, a.session_id, a.item, a.condition, a.rating, a.answer, "
            "a.correct, a.trial, a.page, a.time_ms, a.n_plays, a.n_switches, a.answered_at FROM answers a "
            "JOIN sessions s ON s.id = a.session_id JOIN listeners l ON l.id = s.listener_id "
            f"JOIN tests t ON t.id = s.test_id {where} "
            "ORDER BY s.test_id, s.session_number, a.page, a.trial, a.condition",
            args,
        ).fetchall()
        bitrates: dict[str, dict[str, float | None]] = {}
        out: list[TidyRow] = []
        for (tid, ttype, design_json, listener, session, item, cond, rating, ans, correct, trial, page, time_ms,
             n_plays, n_switches, answered_at) in rows:
            if tid not in bitrates:
                conditions = json.loads(design_json)["conditions"]
                bitrates[tid] = {cid: spec.get("bitrate_kbps") for cid, spec in conditions.items()}
            out.append(TidyRow(
                test_id=tid, test_type=ttype, listener=listener, session=session, item=item, condition=cond,
                bitrate_kbps=bitrates[tid].get(cond), rating=rating, answer=ans,
                correct=None if correct is None else bool(correct), trial=trial, page=page, time_ms=time_ms,
                n_plays=n_plays, n_switches=n_switches, answered_at=answered_at,
            ))
        return out
