"""Importing result files from other EarBench installations into the ratings database (storage_import): no
duplicates, overlapping files, hostile files rolled back, imported rows in statistics and exports, the results view."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from listening_fixtures import write_design

from app.core.listening.analysis import analyse
from app.core.listening.design import TestDesign
from app.core.listening.design_parse import load_design
from app.core.listening.exports import read_tidy_csv, write_tidy_csv
from app.core.listening.records import TidyRow
from app.core.listening.results_merge import export_results, read_results
from app.core.listening.storage import Storage
from app.core.listening.storage_import import ResultImportError, import_result_files, import_result_rows
from app.core.listening.storage_records import Answer

SCORES = {"reference": 100.0, "anchor_lp70": 50.0, "anchor_lp35": 20.0, "c1": 40.0, "c2": 70.0}
ITEMS = ("item00", "item01")


@pytest.fixture
def design(tmp_path: Path) -> TestDesign:
    return load_design(write_design(tmp_path / "design", "mushra", options={"training": False}))


def _take(storage: Storage, design: TestDesign, listener: str, offset: float) -> str:
    """One finished MUSHRA session of ``listener``: every item, every signal rated SCORES + offset."""
    storage.register_test(design)
    session = storage.create_session(design.id, listener, lambda n: {"number": n}, app_version="test")
    answers = [Answer(session.id, page, 0, item, cond, rating=min(100.0, score + offset), time_ms=900, n_plays=1)
               for page, item in enumerate(ITEMS) for cond, score in SCORES.items()]
    storage.record_answers(answers)
    storage.finish_session(session.id)
    return session.id


def _counts(storage: Storage) -> tuple[int, ...]:
    conn = sqlite3.connect(str(storage.path))
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("answers", "sessions", "listeners", "imports"))
    finally:
        conn.close()


@pytest.fixture
def local(tmp_path: Path, design: TestDesign) -> Storage:
    storage = Storage(tmp_path / "ratings.sqlite")
    _take(storage, design, "ann", 0.0)
    yield storage
    storage.close()


@pytest.fixture
def remote_file(tmp_path: Path, design: TestDesign) -> Path:
    """Another machine's JSON export: dan and eve, 10 answers each (their sessions are numbered 1 and 2 there)."""
    with Storage(tmp_path / "other.sqlite") as other:
        _take(other, design, "dan", 5.0)
        _take(other, design, "eve", -5.0)
        return export_results(other, tmp_path / "remote.json")


def test_importing_the_same_file_twice_adds_nothing_the_second_time(local: Storage, remote_file: Path) -> None:
    first = import_result_files(local, [remote_file])
    assert (first.n_imported, first.n_present, first.n_new_sessions) == (20, 0, 2) and not first.conflicts
    counts = _counts(local)
    assert counts == (30, 3, 3, 1)
    second = import_result_files(local, [remote_file])
    assert second.describe() == "0 answers imported, 20 already present"
    assert _counts(local) == counts  # no answer, session, listener or import row added
    # Imported sessions get this machine's next numbers (ann's is 1 here, dan's was 1 there), are finished (never
    # resumed here) and keep their provenance.
    sessions = {s.listener: s for s in local.sessions("test-mushra")}
    assert sorted(s.session_number for s in sessions.values()) == [1, 2, 3]
    assert sessions["dan"].finished_at and local.unfinished_session("test-mushra", "dan") is None
    conn = sqlite3.connect(str(local.path))
    try:
        [(name, sha, n_answers)] = conn.execute("SELECT file_name, file_sha256, n_answers FROM imports").fetchall()
        origins = dict(conn.execute("SELECT coalesce(import_id, 0), count(*) FROM answers GROUP BY 1").fetchall())
    finally:
        conn.close()
    assert (name, n_answers, len(sha)) == ("remote.json", 20, 64) and origins == {0: 10, 1: 20}


def test_overlapping_files_add_each_answer_once_and_report_conflicts(local: Storage, remote_file: Path,
                                                                     tmp_path: Path) -> None:
    rows = read_results(remote_file)
    part_a = export_results(rows[:12], tmp_path / "a.json")
    part_b = export_results(rows[6:], tmp_path / "b.csv")  # overlaps rows 6-11
    changed = TidyRow(**{**rows[3].as_dict(), "rating": 1.0})
    part_c = export_results([changed, *rows[:2]], tmp_path / "c.csv")
    a = import_result_files(local, [part_a])
    bc = import_result_files(local, [part_b, part_c])
    assert (a.n_imported, bc.files[0].n_imported, bc.files[0].n_present) == (12, 8, 6)
    assert bc.files[1].n_imported == 0 and bc.files[1].n_present == 2
    [conflict] = bc.conflicts
    assert conflict.kept == rows[3] and conflict.dropped == changed and "differ in rating" in conflict.describe()
    assert "1 conflicting (the stored version is kept)" in bc.describe()
    stored = {(r.session, r.page, r.condition): r.rating for r in local.tidy_rows()}
    assert len(stored) == 30 and stored[(rows[3].session, rows[3].page, rows[3].condition)] == rows[3].rating
    # A file with the rows of our own database (imported or taken here) adds nothing.
    own = import_result_files(local, [export_results(local, tmp_path / "own.json")])
    assert (own.n_imported, own.n_present) == (0, 30)


def _corrupt(path: Path, case: str) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["rows"]
    last = rows[-1]  # the bad row comes after good ones: they must not be written either
    if case == "truncated":
        path.write_text(path.read_text(encoding="utf-8")[:-200], encoding="utf-8")
        return path
    if case == "rows_not_a_list":
        data["rows"] = 7
    elif case == "rating_text":
        last["rating"] = "100; DROP TABLE answers"
    elif case == "rating_out_of_range":
        last["rating"] = 1e9
    elif case == "unknown_item":
        last["item"] = "../../etc/passwd"
    elif case == "bad_session_id":
        for row in rows:
            if row["session"] == last["session"]:
                row["session"] = "x'); DELETE FROM answers; --"
    elif case == "bool_as_count":
        last["n_plays"] = True
    elif case == "unknown_test":
        last["test_id"] = "not-here"
    elif case == "wrong_type":
        last["test_type"] = "abx"
    elif case == "session_of_two_listeners":
        last["listener"] = "mallory"
    elif case == "bad_time":
        last["answered_at"] = "yesterday"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["truncated", "rows_not_a_list", "rating_text", "rating_out_of_range", "unknown_item",
                                  "bad_session_id", "bool_as_count", "unknown_test", "wrong_type",
                                  "session_of_two_listeners", "bad_time"])
def test_a_corrupt_or_hostile_file_is_refused_and_nothing_is_written(local: Storage, remote_file: Path,
                                                                    tmp_path: Path, case: str) -> None:
    good = export_results(read_results(remote_file)[:10], tmp_path / "good.json")
    bad = _corrupt(remote_file, case)
    before = _counts(local)
    with pytest.raises(ResultImportError, match=r"remote\.json") as info:
        import_result_files(local, [good, bad])  # the good file goes in the same transaction: rolled back
    assert _counts(local) == before, str(info.value)
    assert local.schema_version == 3 and len(local.tidy_rows()) == 10


def test_a_session_id_stored_for_another_listener_is_refused(local: Storage, remote_file: Path) -> None:
    ann_session = local.sessions()[0].id
    forged = [TidyRow(**{**r.as_dict(), "session": ann_session}) for r in read_results(remote_file) if
              r.listener == "dan"]
    with pytest.raises(ResultImportError, match="stored here as test-mushra/ann"):
        import_result_rows(local, forged, "forged")
    assert _counts(local) == (10, 1, 1, 0)


def test_imported_rows_appear_in_statistics_and_exports_and_survive_reopening(local: Storage, remote_file: Path,
                                                                            tmp_path: Path, design: TestDesign) -> None:
    import_result_files(local, [remote_file])
    local.close()
    with Storage(local.path) as reopened:
        rows = reopened.tidy_rows("test-mushra")
        assert {r.listener for r in rows} == {"ann", "dan", "eve"} and len(rows) == 30
        dan = [r for r in rows if r.listener == "dan"]
        assert all(r.bitrate_kbps == 1.5 for r in dan if r.condition == "c1")  # from the design, as for local rows
        analysis = analyse(rows, seed=1)
        assert analysis.mushra is not None
        assert {s.listener for s in analysis.mushra.screening.listeners} == {"ann", "dan", "eve"}
        assert analysis.mushra.conditions["c1"].n == 6  # 3 listeners x 2 items
        csv_rows = read_tidy_csv(write_tidy_csv(rows, tmp_path / "all.csv"))
        assert sorted(r.listener for r in csv_rows).count("eve") == 10
        # A local session started after the import takes the next number.
        assert _take(reopened, design, "fay", 0.0) and reopened.sessions()[-1].session_number == 4


def test_results_view_import_writes_to_the_database(qtbot, local: Storage, remote_file: Path,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    from app.ui.listening.results_view import ResultsWindow

    view = ResultsWindow(local)
    qtbot.addWidget(view)
    assert view.summary_label.text().startswith("10 answers from 1")
    report = view.import_results([remote_file])
    assert report.n_imported == 20 and view.summary_label.text().startswith("30 answers from 3")
    assert "20 answers imported, 0 already present" in view.merge_text.toPlainText()
    view._ask("Import", view.import_results, [remote_file])
    assert "0 answers imported, 20 already present" in view.merge_text.toPlainText()
    assert view.notices.has_notice("export")
    restarted = ResultsWindow(Storage(local.path))  # a new window on the same file: the answers are there
    qtbot.addWidget(restarted)
    assert restarted.summary_label.text().startswith("30 answers from 3")
    restarted.storage.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("listener,session\nx,y\n", encoding="utf-8")
    with pytest.raises(ResultImportError, match=r"bad\.csv"):
        view.import_results([bad])
    assert len(local.tidy_rows()) == 30
