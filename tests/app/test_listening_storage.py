"""The ratings database: pragmas, migrations from an older schema, refusal of newer ones, idempotent answers,
tidy rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from listening_fixtures import design_mapping

from app.core.errors import StorageError
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import parse_design
from app.core.listening.migrations import SCHEMA_VERSION
from app.core.listening.records import TidyRow
from app.core.listening.storage import Storage, default_db_path
from app.core.listening.storage_records import Answer, StimulusFile

# Schema version 1 exactly as the first release created it (written out here, independent of migrations.py).
V1_SCHEMA = """
CREATE TABLE tests (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, design_json TEXT NOT NULL,
    design_sha256 TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE listeners (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY, test_id TEXT NOT NULL REFERENCES tests(id),
    listener_id INTEGER NOT NULL REFERENCES listeners(id), session_number INTEGER NOT NULL,
    randomisation_json TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, app_version TEXT NOT NULL,
    model_versions_json TEXT NOT NULL, UNIQUE (test_id, session_number));
CREATE INDEX sessions_by_listener ON sessions (test_id, listener_id);
CREATE TABLE answers (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
    page INTEGER NOT NULL, trial INTEGER NOT NULL, item TEXT NOT NULL, condition TEXT NOT NULL, rating REAL,
    answer TEXT, correct INTEGER, time_ms INTEGER NOT NULL, n_plays INTEGER NOT NULL, n_switches INTEGER NOT NULL,
    answered_at TEXT NOT NULL, UNIQUE (session_id, page, trial, item, condition));
CREATE TABLE stimuli (test_id TEXT NOT NULL REFERENCES tests(id), path TEXT NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (test_id, path));
PRAGMA user_version = 1;
"""


@pytest.fixture
def design(tmp_path: Path) -> TestDesign:
    return parse_design(design_mapping(tmp_path / "d", "abx", options={"trials_per_item": 2}), tmp_path / "d")


def _session(storage: Storage, design: TestDesign, listener: str = "alice") -> str:
    storage.register_test(design)
    return storage.create_session(design.id, listener, lambda n: {"number": n}, app_version="0.1.0").id


def test_new_database_uses_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    with Storage(tmp_path / "sub" / "r.sqlite") as storage:
        assert storage.schema_version == SCHEMA_VERSION
        conn = storage._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):  # an answer for no session
            storage.record_answer(Answer("no-such-session", 0, 0, "i", "c", answer="A"))


def test_default_location_is_the_user_data_dir() -> None:
    path = default_db_path()
    assert path.name == "ratings.sqlite" and "earbench" in str(path.parent).lower()


def test_v1_database_is_migrated_keeping_its_data(tmp_path: Path, design: TestDesign) -> None:
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(str(db))
    conn.executescript(V1_SCHEMA)
    conn.execute("INSERT INTO tests VALUES ('old', 'Old test', 'abx', '{\"conditions\": {\"c1\": "
                 "{\"label\": \"C\", \"bitrate_kbps\": 3.0}}}', 'h', '2025-01-01')")
    conn.execute("INSERT INTO listeners VALUES (1, 'bob', '2025-01-01')")
    conn.execute("INSERT INTO sessions VALUES ('s1', 'old', 1, 1, '{}', '2025-01-01', NULL, '0.0.9', '{}')")
    conn.execute("INSERT INTO answers VALUES (NULL, 's1', 0, 0, 'i1', 'c1', NULL, 'B', 1, 900, 3, 2, '2025-01-01')")
    conn.execute("INSERT INTO stimuli VALUES ('old', 'a.wav', 'abc')")
    conn.commit()
    conn.close()
    with Storage(db) as storage:
        assert storage.schema_version == SCHEMA_VERSION == 3
        record = storage.session("s1")
        assert record.listener == "bob" and record.transducer is None and record.training_done_at is None
        assert storage.stimuli("old") == [StimulusFile("a.wav", "abc", "stimulus", "", "")]
        [row] = storage.tidy_rows("old")
        assert (row.listener, row.answer, row.correct, row.bitrate_kbps, row.time_ms) == ("bob", "B", True, 3.0, 900)
        # The migrated database takes new tests and sessions as usual.
        assert _session(storage, design)
    with Storage(db) as storage:  # opening again is a no-op
        assert storage.schema_version == SCHEMA_VERSION and len(storage.sessions()) == 2


def test_newer_or_foreign_databases_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(str(newer))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer EarBench"):
        Storage(newer)
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(str(foreign))
    conn.execute("CREATE TABLE x (y)")
    conn.close()
    with pytest.raises(StorageError, match="not an EarBench ratings database"):
        Storage(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a usable ratings database"):
        Storage(garbage)


def test_retried_answers_are_stored_once(tmp_path: Path, design: TestDesign) -> None:
    with Storage(tmp_path / "r.sqlite") as storage:
        sid = _session(storage, design)
        answer = Answer(sid, page=0, trial=1, item="item00", condition="c1", answer="A", correct=False, time_ms=10)
        assert storage.record_answer(answer) is True
        assert storage.record_answer(answer) is False
        page = [Answer(sid, 1, 0, "item00", c, rating=50.0) for c in ("c1", "c2", "reference")]
        assert storage.record_answers(page) == 3
        assert storage.record_answers([*page, Answer(sid, 1, 0, "item00", "anchor_lp35", rating=5.0)]) == 1
        assert len(storage.answers(sid)) == 5
        assert storage.answered_trials(sid) == {(0, 1), (1, 0)}
    with Storage(tmp_path / "r.sqlite") as storage:  # committed: another connection sees it all
        assert len(storage.answers(sid)) == 5


def test_failed_batch_stores_nothing(tmp_path: Path, design: TestDesign) -> None:
    with Storage(tmp_path / "r.sqlite") as storage:
        sid = _session(storage, design)
        batch = [Answer(sid, 0, 0, "item00", "c1", rating=1.0), Answer("ghost", 0, 0, "item00", "c2", rating=2.0)]
        with pytest.raises(sqlite3.IntegrityError):
            storage.record_answers(batch)
        assert storage.answers(sid) == []


def test_sessions_are_numbered_and_resumable(tmp_path: Path, design: TestDesign) -> None:
    with Storage(tmp_path / "r.sqlite") as storage:
        first = _session(storage, design, "alice")
        second = _session(storage, design, "bob")
        assert [s.session_number for s in storage.sessions(design.id)] == [1, 2]
        assert storage.session(second).randomisation == {"number": 2}
        assert storage.unfinished_session(design.id, "alice").id == first
        storage.finish_session(first)
        assert storage.unfinished_session(design.id, "alice") is None
        assert storage.session(first).finished_at is not None
        with pytest.raises(StorageError, match="listener name"):
            storage.create_session(design.id, "  ", lambda n: {}, app_version="x")


def test_changed_design_or_stimulus_under_the_same_id_is_refused(tmp_path: Path, design: TestDesign) -> None:
    with Storage(tmp_path / "r.sqlite") as storage:
        assert storage.register_test(design) == design.id
        assert storage.register_test(design) == design.id  # same design again: fine
        changed = parse_design({**design.to_mapping(), "seed": design.seed + 1}, design.base_dir)
        with pytest.raises(StorageError, match="different design"):
            storage.register_test(changed)
        ref = StimulusFile("audio/a.wav", "1" * 64, "reference", "item00", "reference")
        anchor = StimulusFile("anchor:item00/anchor_lp35", "2" * 64, "anchor", "item00", "anchor_lp35")
        storage.record_stimuli(design.id, [ref, anchor])
        storage.record_stimuli(design.id, [StimulusFile(**{**vars(anchor), "sha256": "3" * 64})])  # first kept
        # The same file moved (e.g. into a bundle's folder): accepted; the same place with new contents: refused.
        storage.record_stimuli(design.id, [StimulusFile(**{**vars(ref), "path": "stimuli/audio/a.wav"})])
        with pytest.raises(StorageError, match="differs from the file the test started with"):
            storage.record_stimuli(design.id, [StimulusFile(**{**vars(ref), "sha256": "f" * 64})])
        with pytest.raises(StorageError, match="differs from the file the test started with"):
            storage.record_stimuli(design.id, [StimulusFile(**{**vars(ref), "path": "b.wav", "sha256": "f" * 64})])
        assert [f.sha256[0] for f in storage.stimuli(design.id)] == ["2", "1", "1"]


def test_design_hash_ignores_where_the_files_are(tmp_path: Path, design: TestDesign) -> None:
    moved = tmp_path / "moved"
    for path in design.stimulus_paths():
        target = moved / "stimuli" / design.relative(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    mapping = design.to_mapping()
    for item in mapping["items"]:
        item["reference"] = "stimuli/" + item["reference"]
        item["conditions"] = {c: "stimuli/" + p for c, p in item["conditions"].items()}
    relocated = parse_design(mapping, moved)
    assert relocated != design and relocated.design_hash() == design.design_hash()
    with Storage(tmp_path / "r.sqlite") as storage:
        assert storage.register_test(design) == storage.register_test(relocated)


def test_tidy_rows(tmp_path: Path, design: TestDesign) -> None:
    with Storage(tmp_path / "r.sqlite") as storage:
        sid = _session(storage, design, "carol")
        storage.record_answer(Answer(sid, 0, 0, "item01", "c2", answer="B", correct=True, time_ms=1500, n_plays=4,
                                     n_switches=3, answered_at="2026-01-01T00:00:00.000+00:00"))
        storage.record_answer(Answer(sid, 0, 1, "item01", "c2", answer="dont_know", correct=None))
        rows = storage.tidy_rows()
        assert storage.tidy_rows(design.id) == rows and storage.tidy_rows("other") == []
        assert rows[0] == TidyRow(
            test_id=design.id, test_type="abx", listener="carol", session=sid, item="item01", condition="c2",
            bitrate_kbps=3.0, rating=None, answer="B", correct=True, trial=0, page=0, time_ms=1500, n_plays=4,
            n_switches=3, answered_at="2026-01-01T00:00:00.000+00:00",
        )
        assert rows[1].correct is None and rows[1].answer == "dont_know" and rows[1].answered_at.endswith("+00:00")
