"""Exports of listening-test rows: tidy CSV, webMUSHRA CSVs, JSON, HTML report, result-file merging."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from app.core.listening.analysis import analyse
from app.core.listening.exports import (
    TIDY_CSV_COLUMNS,
    read_json_rows,
    read_tidy_csv,
    write_json,
    write_tidy_csv,
    write_webmushra_csvs,
)
from app.core.listening.records import TIDY_COLUMNS, TidyRow
from app.core.listening.report import render_report
from app.core.listening.results_merge import export_results, merge_results

HOSTILE = '<script>alert("x")</script>&'


def row(listener: str, item: str, condition: str, rating: float | None, *, test_type: str = "mushra",
        answer: str | None = None, correct: bool | None = None, trial: int = 0, page: int = 0,
        bitrate_kbps: float | None = None, time_ms: int = 1500) -> TidyRow:
    return TidyRow("t1", test_type, listener, f"s-{listener}", item, condition, bitrate_kbps, rating, answer, correct,
                   trial, page, time_ms, 2, 1, "2026-01-01T00:00:00Z")


def mushra_rows() -> list[TidyRow]:
    rows = []
    ratings = {"reference": 100.0, "enc6": 62.5, "anchor_lp70": 55.0, "anchor_lp35": 20.0}
    for listener in ("ann", "bob", "cy"):
        for page, item in enumerate(("castanets", "speech", "piano", "organ", "drums")):
            for cond, value in ratings.items():
                rows.append(row(listener, item, cond, value + page + (listener == "bob"), page=page,
                                bitrate_kbps=6.0 if cond == "enc6" else None))
    return rows


def test_tidy_csv_header_order_and_round_trip(tmp_path: Path) -> None:
    rows = [*mushra_rows()[:3], row("ann", "i1", "enc6", None, test_type="abx", answer="dont_know", trial=4),
            row("ann", "i1", "enc6", None, test_type="abx", answer="A", correct=True, trial=5)]
    path = write_tidy_csv(rows, tmp_path / "tidy.csv")
    with path.open(newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0][:8] == ["listener", "session", "item", "condition", "bitrate", "rating", "time_ms", "n_plays"]
    assert lines[0] == list(TIDY_CSV_COLUMNS) and len(lines[0]) == len(TIDY_COLUMNS)
    assert set(lines[0][8:]) == set(TIDY_COLUMNS) - {"listener", "session", "item", "condition", "bitrate_kbps",
                                                       "rating", "time_ms", "n_plays"}
    assert lines[1][:8] == ["ann", "s-ann", "castanets", "reference", "", "100.0", "1500", "2"]
    assert read_tidy_csv(path) == rows


def test_webmushra_csvs_match_write_php_columns(tmp_path: Path) -> None:
    rows = [*mushra_rows()[:4], row("ann", "i1", "enc6", None, test_type="abx", answer="B", correct=False)]
    rows += [row("ann", "i1", "enc6", 3.5, test_type="bs1116", trial=0), row("ann", "i1", "reference", 5.0,
                                                                              test_type="bs1116", trial=0)]
    paths = {p.name: p for p in write_webmushra_csvs(rows, tmp_path / "results")}
    assert set(paths) == {"mushra.csv", "paired_comparison.csv", "bs1116.csv"}
    with paths["mushra.csv"].open(newline="") as f:
        mushra = list(csv.reader(f))
    assert mushra[0] == ["session_test_id", "listener", "session_uuid", "trial_id", "rating_stimulus",
                         "rating_score", "rating_time", "rating_comment"]
    assert mushra[1] == ["t1", "ann", "s-ann", "castanets", "reference", "100", "1500", ""]
    assert [line[4] for line in mushra[1:]] == ["reference", "enc6", "anchor70", "anchor35"]
    with paths["paired_comparison.csv"].open(newline="") as f:
        pc = list(csv.reader(f))
    assert pc[0] == ["session_test_id", "listener", "trial_id", "choice_reference", "choice_non_reference",
                     "choice_answer", "choice_time", "choice_comment"]
    assert pc[1][3:6] == ["reference", "enc6", "incorrect"]
    with paths["bs1116.csv"].open(newline="") as f:
        bs = list(csv.reader(f))
    assert bs[0][3:7] == ["rating_reference", "rating_non_reference", "rating_reference_score",
                          "rating_non_reference_score"]
    assert bs[1][3:7] == ["reference", "enc6", "5", "3.5"]


def test_json_export_has_design_rows_statistics(tmp_path: Path) -> None:
    rows = mushra_rows()
    path = write_json(rows, tmp_path / "r.json", design={"id": "t1", "name": HOSTILE}, analysis=analyse(rows, seed=1))
    data = json.loads(path.read_text())
    assert data["format"] == "earbench-listening-results" and data["design"]["name"] == HOSTILE
    assert len(data["rows"]) == len(rows)
    assert data["statistics"]["mushra"]["conditions"]["enc6"]["n"] == 15
    assert read_json_rows(path) == rows


def test_html_report_escapes_hostile_strings_and_is_self_contained() -> None:
    rows = [TidyRow(r.test_id, r.test_type, HOSTILE if r.listener == "ann" else r.listener, r.session, r.item,
                    r.condition, r.bitrate_kbps, r.rating, r.answer, r.correct, r.trial, r.page, r.time_ms, r.n_plays,
                    r.n_switches, r.answered_at) for r in mushra_rows()]
    rows += [row("bob", "i1", "enc6", None, test_type="abx", answer="A", correct=True, trial=t) for t in range(3)]
    design = {"id": "t1", "name": HOSTILE, "type": "mushra", "seed": 1, "items": [],
              "conditions": {"enc6": {"label": HOSTILE, "bitrate_kbps": 6.0}}}
    html = render_report(rows, design=design, seed=0)
    assert "<script" not in html and "alert(\"x\")" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "src=" not in html and "<link" not in html
    assert "Post-screening" in html and "ABX" in html and "Per item" in html


def test_export_and_merge_results_dedupes_and_reports_conflicts(tmp_path: Path) -> None:
    rows = mushra_rows()
    a = export_results(rows[:40], tmp_path / "a.json")
    b = export_results(rows[20:], tmp_path / "b.csv")  # overlaps rows 20-39

    class FakeStorage:
        def tidy_rows(self, test_id: str | None = None) -> list[TidyRow]:
            changed = rows[5]
            return [TidyRow(**{**changed.as_dict(), "rating": 1.0})]

    c = export_results(FakeStorage(), tmp_path / "c.json")
    merged = merge_results([a, b, c])
    assert len(merged.rows) == len(rows) and merged.n_duplicates == 20
    assert len(merged.conflicts) == 1 and merged.conflicts[0].kept == rows[5]
    assert "differ in rating" in merged.conflicts[0].describe()
    with pytest.raises(ValueError, match="not an EarBench results file"):
        (tmp_path / "bad.json").write_text("{}")
        merge_results([tmp_path / "bad.json"])
