"""The ratings database: one SQLite file (stdlib ``sqlite3``), every answer committed when it is given.

Durability: WAL journal, ``synchronous=FULL`` (a COMMIT is on disk before it returns, power loss included),
foreign keys on, one ``BEGIN IMMEDIATE … COMMIT`` transaction per answer (or per MUSHRA page), and
``UNIQUE(session, page, trial, item, condition)`` with ``ON CONFLICT DO NOTHING``, so a write retried after a crash
never duplicates a row. The schema version is ``PRAGMA user_version``; older databases are migrated forward on
open (:mod:`app.core.listening.migrations`), newer ones are refused.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from app.core.errors import StorageError
from app.core.listening.design import TestDesign
from app.core.listening.migrations import MIGRATIONS, SCHEMA_VERSION
from app.core.listening.records import TidyRow

DB_FILE_NAME = "ratings.sqlite"
_BUSY_TIMEOUT_MS = 10_000


def default_db_path() -> Path:
    """``<user data dir>/earbench/ratings.sqlite`` (platformdirs); the folder is created when the DB is opened."""
    return Path(platformdirs.user_data_dir("earbench", appauthor=False)) / DB_FILE_NAME


def utc_now() -> str:
    """Current time as ISO 8601 UTC with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Answer:
    """One stored answer (see :class:`TidyRow` for the meaning of ``rating``/``answer``/``correct``).

    ``answered_at`` is filled in when the answer is recorded if left empty.
    """

    session_id: str
    page: int
    trial: int
    item: str
    condition: str
    rating: float | None = None
    answer: str | None = None
    correct: bool | None = None
    time_ms: int = 0
    n_plays: int = 0
    n_switches: int = 0
    answered_at: str = ""


@dataclass(frozen=True)
class StimulusFile:
    """A file a test plays: ``path`` (relative to the design folder, or ``anchor:<item>/<id>``), its SHA-256, its
    ``role`` (``reference``, ``condition`` or ``anchor``) and what it is (``item``, ``condition`` id)."""

    path: str
    sha256: str
    role: str
    item: str
    condition: str


@dataclass(frozen=True)
class SessionRecord:
    """A session row: who took which test, with the randomisation record it was drawn with."""

    id: str
    test_id: str
    listener: str
    session_number: int
    randomisation: dict[str, Any]
    started_at: str
    finished_at: str | None
    app_version: str
    model_versions: dict[str, str] = field(default_factory=dict)
    transducer: str | None = None
    training_done_at: str | None = None


_SESSION_COLUMNS = (
    "s.id, s.test_id, l.name, s.session_number, s.randomisation_json, s.started_at, s.finished_at, s.app_version, "
    "s.model_versions_json, s.transducer, s.training_done_at"
)
_ANSWER_COLUMNS = (
    "session_id, page, trial, item, condition, rating, answer, correct, time_ms, n_plays, n_switches, answered_at"
)


class Storage:
    """An open ratings database. Use one per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open ratings database {self.path}: {exc}") from exc
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StorageError(f"{self.path} is not a usable ratings database: {exc}") from exc
        except StorageError:
            self._conn.close()
            raise

    # ---------------------------------------------------------------- connection and schema
    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"ratings database {self.path} has schema version {version}, made by a newer EarBench "
                f"(this one reads up to {SCHEMA_VERSION}); update EarBench to open it"
            )
        if version == 0 and self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StorageError(f"{self.path} is an SQLite file but not an EarBench ratings database")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            try:
                self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StorageError(f"cannot migrate {self.path} to schema version {target}: {exc}") from exc

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
            f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id WHERE s.id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"no session {session_id!r} in {self.path}")
        return _session_record(row)

    def sessions(self, test_id: str | None = None) -> list[SessionRecord]:
        """All sessions (of one test), oldest first."""
        where, args = ("WHERE s.test_id = ?", (test_id,)) if test_id is not None else ("", ())
        rows = self._conn.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id {where} "
            "ORDER BY s.test_id, s.session_number",
            args,
        ).fetchall()
        return [_session_record(r) for r in rows]

    def unfinished_session(self, test_id: str, listener: str) -> SessionRecord | None:
        """The latest unfinished session of ``listener`` on the test, if any."""
        row = self._conn.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN listeners l ON l.id = s.listener_id "
            "WHERE s.test_id = ? AND l.name = ? AND s.finished_at IS NULL ORDER BY s.session_number DESC LIMIT 1",
            (test_id, listener),
        ).fetchone()
        return None if row is None else _session_record(row)

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
                    f"INSERT INTO answers ({_ANSWER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
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
            f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE session_id = ? ORDER BY page, trial, condition",
            (session_id,),
        ).fetchall()
        return [_answer(r) for r in rows]

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


def _session_record(row: tuple[Any, ...]) -> SessionRecord:
    (sid, test_id, listener, number, randomisation, started, finished, app_version, models, transducer,
     training_done) = row
    return SessionRecord(
        id=sid, test_id=test_id, listener=listener, session_number=int(number),
        randomisation=json.loads(randomisation), started_at=started, finished_at=finished, app_version=app_version,
        model_versions=json.loads(models), transducer=transducer, training_done_at=training_done,
    )


def _answer(row: tuple[Any, ...]) -> Answer:
    session_id, page, trial, item, cond, rating, ans, correct, time_ms, n_plays, n_switches, answered_at = row
    return Answer(
        session_id=session_id, page=page, trial=trial, item=item, condition=cond, rating=rating, answer=ans,
        correct=None if correct is None else bool(correct), time_ms=time_ms, n_plays=n_plays,
        n_switches=n_switches, answered_at=answered_at,
    )
