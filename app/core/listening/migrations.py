"""Schema of the ratings database and its forward migrations (``PRAGMA user_version`` is the schema version).

``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``; a new database runs them all in order. Never edit
a released migration: append a new one, so every older database follows the same path to the current schema.
"""

from __future__ import annotations

_V1 = """
CREATE TABLE tests (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    design_json TEXT NOT NULL,          -- TestDesign.to_mapping(), paths relative to the design folder
    design_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE listeners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    test_id TEXT NOT NULL REFERENCES tests(id),
    listener_id INTEGER NOT NULL REFERENCES listeners(id),
    session_number INTEGER NOT NULL,    -- 1, 2, 3 ... per test: part of the randomisation seed
    randomisation_json TEXT NOT NULL,   -- randomise.Plan.to_json()
    started_at TEXT NOT NULL,
    finished_at TEXT,
    app_version TEXT NOT NULL,
    model_versions_json TEXT NOT NULL,
    UNIQUE (test_id, session_number)
);
CREATE INDEX sessions_by_listener ON sessions (test_id, listener_id);
CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    page INTEGER NOT NULL,
    trial INTEGER NOT NULL,
    item TEXT NOT NULL,
    condition TEXT NOT NULL,
    rating REAL,
    answer TEXT,
    correct INTEGER,
    time_ms INTEGER NOT NULL,
    n_plays INTEGER NOT NULL,
    n_switches INTEGER NOT NULL,
    answered_at TEXT NOT NULL,
    UNIQUE (session_id, page, trial, item, condition)
);
CREATE TABLE stimuli (
    test_id TEXT NOT NULL REFERENCES tests(id),
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (test_id, path)
);
"""

_V2 = """
ALTER TABLE sessions ADD COLUMN transducer TEXT;          -- headphones | loudspeakers (BS.1534-3 §8)
ALTER TABLE sessions ADD COLUMN training_done_at TEXT;    -- set when the listener leaves the training pass
ALTER TABLE tests ADD COLUMN anchor_recipe_json TEXT;     -- how the MUSHRA anchors were made (BS.1534-3 §10.2)
-- Stimuli are identified by what they are (item, condition), so moving a test's files (a bundle) keeps the check
-- that their contents never change; rows from version 1 keep empty item/condition.
CREATE TABLE stimuli_v2 (
    test_id TEXT NOT NULL REFERENCES tests(id),
    item TEXT NOT NULL DEFAULT '',
    condition TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'stimulus',                -- reference | condition | anchor
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (test_id, item, condition, path)
);
INSERT INTO stimuli_v2 (test_id, path, sha256) SELECT test_id, path, sha256 FROM stimuli;
DROP TABLE stimuli;
ALTER TABLE stimuli_v2 RENAME TO stimuli;
"""

_V3 = """
-- Result files imported from other EarBench installations (storage_import): one row per import that added rows.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,            -- the file's name as chosen by the user (no folder)
    file_sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    n_answers INTEGER NOT NULL          -- answers this import added
);
-- NULL: taken on this machine; otherwise the import that brought the session or answer in.
ALTER TABLE sessions ADD COLUMN import_id INTEGER REFERENCES imports(id);
ALTER TABLE answers ADD COLUMN import_id INTEGER REFERENCES imports(id);
"""


MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)
