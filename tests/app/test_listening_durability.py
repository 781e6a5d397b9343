"""A listener process killed with SIGKILL at random points never loses or duplicates an acknowledged answer.

The worker (listening_worker.py) answers a MUSHRA session page by page and prints ``ACK <page>`` after each
``advance()`` returned. We kill it at least 50 times: sometimes while it starts, otherwise after a random number of
ACKs plus a random delay of a few milliseconds (so kills land inside commits as well as between them). After every
kill, each ACKed page is in the database exactly once with all its ratings, no page is stored partly, and the next
run resumes at the first unanswered page. Sessions that finish are checked complete and the next listener starts.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from listening_fixtures import fake_anchor, write_design

from app.core.listening.anchors import render_anchors
from app.core.listening.design_parse import load_design

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

WORKER = Path(__file__).with_name("listening_worker.py")
N_ITEMS = 30
N_SIGNALS = 2 + 3  # two conditions + hidden reference + two anchors
MIN_KILLS = 50


def _query(db: Path, sql: str, *args: object) -> list[tuple]:
    """Read with a separate connection, as another process would."""
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _run_once(args: list[str], rng: random.Random, kill: bool) -> tuple[list[str], int]:
    """Run the worker; with ``kill``, SIGKILL it at a random point. Returns every line it printed and its status."""
    proc = subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    if kill and rng.random() < 0.15:
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere in start-up: imports, design, session creation
    elif kill:
        wanted_acks = rng.choice((0, 0, 1, 1, 2, 3))
        while line := proc.stdout.readline():
            if not line.endswith("\n"):
                break  # the worker died mid-line
            lines.append(line.strip())
            if line.startswith("DONE") or sum(x.startswith("ACK") for x in lines) >= wanted_acks:
                break
        time.sleep(rng.uniform(0.0, 0.005))  # lands between commits or inside one
    if kill:
        proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    # A kill can cut the last line short ("AC"): only whole lines count as acknowledgements.
    rest = rest[: rest.rfind("\n") + 1]
    lines += [x.strip() for x in rest.splitlines() if x.strip()]
    return lines, proc.returncode


def _check_listener(db: Path, listener: str, acked: dict[str, set[int]], position: dict[str, int]) -> bool:
    """Check the listener's stored session after a run; True when it is finished."""
    if not _query(db, "SELECT name FROM sqlite_master WHERE name = 'sessions'"):
        return False  # killed before the first run created the schema (that creation is one transaction)
    sessions = _query(db, "SELECT s.id, s.finished_at FROM sessions s JOIN listeners l ON l.id = s.listener_id "
                          "WHERE l.name = ?", listener)
    assert len(sessions) <= 1, "a resumed listener got a second session"
    if not sessions:
        return False
    session_id, finished_at = sessions[0]
    pages = dict(_query(db, "SELECT page, count(*) FROM answers WHERE session_id = ? GROUP BY page", session_id))
    assert acked.get(session_id, set()) <= set(pages), "an acknowledged page is missing"
    assert all(n == N_SIGNALS for n in pages.values()), f"a page stored partly: {pages}"
    assert set(pages) == set(range(len(pages))), "pages answered out of order"
    assert _query(db, "SELECT count(*) FROM (SELECT DISTINCT session_id, page, trial, item, condition FROM answers)") \
        == _query(db, "SELECT count(*) FROM answers"), "duplicated answers"
    position[session_id] = len(pages)
    if finished_at is not None:
        assert len(pages) == N_ITEMS
    return finished_at is not None


def test_sigkill_never_loses_or_duplicates_acknowledged_answers(tmp_path: Path) -> None:
    design_path = write_design(tmp_path / "test", "mushra", n_items=N_ITEMS, shared_audio=True,
                               options={"training": True})
    anchor_dir = tmp_path / "anchors"
    render_anchors(load_design(design_path), anchor_dir, fake_anchor)  # cached: the worker never imports codec
    db = tmp_path / "ratings.sqlite"
    rng = random.Random(int(os.environ.get("EARBENCH_DURABILITY_SEED", "20261126")))
    kills = listener = 0
    acked: dict[str, set[int]] = {}
    position: dict[str, int] = {}
    while True:
        final = kills >= MIN_KILLS
        name = f"listener{listener}"
        lines, status = _run_once([str(db), str(design_path), str(anchor_dir), name], rng, kill=not final)
        if status == -signal.SIGKILL:
            kills += 1
        else:
            assert status == 0, f"worker failed ({status}): {lines}"
        starts = [x.split() for x in lines if x.startswith("START")]
        if starts:
            _, session_id, start_position = starts[0]
            # Resumes exactly at the first unanswered page left by the previous run of this session.
            assert int(start_position) == position.get(session_id, 0)
            new_acks = {int(x.split()[1]) for x in lines if x.startswith("ACK")}
            assert not new_acks & acked.get(session_id, set()), "a page was acknowledged twice"
            acked.setdefault(session_id, set()).update(new_acks)
        if _check_listener(db, name, acked, position):
            listener += 1
        if final:
            assert "DONE" in lines
            break
    assert kills >= MIN_KILLS
    n_finished, n_sessions = _query(db, "SELECT count(finished_at), count(*) FROM sessions")[0]
    assert n_finished == n_sessions == listener  # one session per listener, each completed
    assert _query(db, "SELECT count(*) FROM answers")[0][0] == listener * N_ITEMS * N_SIGNALS


def test_listening_core_imports_without_torch() -> None:
    code = (
        "import sys, app.core.listening.session, app.core.listening.storage, app.core.listening.design; "
        "sys.exit(3 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
