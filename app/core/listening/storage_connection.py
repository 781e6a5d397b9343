"""Opening the ratings database: one stdlib ``sqlite3`` connection in autocommit mode, configured for durability
(WAL journal, ``synchronous=FULL``, foreign keys on) and migrated forward to :data:`SCHEMA_VERSION` on open
(:mod:`app.core.listening.migrations`); a database made by a newer EarBench is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.core.errors import StorageError
from app.core.listening.migrations import MIGRATIONS, SCHEMA_VERSION

_BUSY_TIMEOUT_MS = 10_000


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating its folder), configure and migrate the database at ``path``; raises :class:`StorageError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open ratings database {path}: {exc}") from exc
    try:
        _configure(conn)
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StorageError(f"{path} is not a usable ratings database: {exc}") from exc
    except StorageError:
        conn.close()
        raise
    return conn


def read_schema_version(conn: sqlite3.Connection) -> int:
    """The schema version of the open database (``PRAGMA user_version``; 0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = read_schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"ratings database {path} has schema version {version}, made by a newer EarBench "
            f"(this one reads up to {SCHEMA_VERSION}); update EarBench to open it"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StorageError(f"{path} is an SQLite file but not an EarBench ratings database")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"cannot migrate {path} to schema version {target}: {exc}") from exc
