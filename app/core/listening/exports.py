"""Exports of tidy rows: tidy CSV, webMUSHRA-compatible CSVs and a JSON document (design + rows + statistics).

Every export reads only :class:`TidyRow` lists, never the database, so files from any source export the same way.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.listening.analysis import Analysis, jsonable
from app.core.listening.bs1116_stats import diff_grades
from app.core.listening.records import TIDY_COLUMNS, TidyRow

#: Issue wording first ("bitrate" is ``bitrate_kbps``), then the remaining TidyRow fields in their order.
TIDY_CSV_LEADING = ("listener", "session", "item", "condition", "bitrate", "rating", "time_ms", "n_plays")
_FIELD_OF_COLUMN = {"bitrate": "bitrate_kbps"}
TIDY_CSV_COLUMNS = TIDY_CSV_LEADING + tuple(
    c for c in TIDY_COLUMNS if c not in {_FIELD_OF_COLUMN.get(x, x) for x in TIDY_CSV_LEADING}
)
JSON_FORMAT = "earbench-listening-results"
JSON_FORMAT_VERSION = 1


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_tidy_csv(rows: Iterable[TidyRow], path: Path) -> Path:
    """Write one line per answer with :data:`TIDY_CSV_COLUMNS`; None becomes an empty cell, booleans true/false."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(TIDY_CSV_COLUMNS)
        for row in rows:
            writer.writerow([_cell(getattr(row, _FIELD_OF_COLUMN.get(c, c))) for c in TIDY_CSV_COLUMNS])
    return path


def _parse(field: str, text: str) -> Any:
    if field in {"bitrate_kbps", "rating"}:
        return float(text) if text else None
    if field in {"answer"}:
        return text or None
    if field == "correct":
        return {"": None, "true": True, "false": False}[text.lower()]
    if field in {"trial", "page", "time_ms", "n_plays", "n_switches"}:
        return int(text)
    return text


def read_tidy_csv(path: Path) -> list[TidyRow]:
    """Read a file written by :func:`write_tidy_csv` back into rows (columns matched by name)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(TIDY_CSV_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a tidy results CSV, missing columns {sorted(missing)}")
        rows = []
        for line in reader:
            values = {_FIELD_OF_COLUMN.get(c, c): line[c] for c in TIDY_CSV_COLUMNS}
            rows.append(TidyRow(**{k: _parse(k, v) for k, v in values.items()}))
    return rows


# webMUSHRA's results format, matched to audiolabs/webMUSHRA service/write.php (the version that writes
# session_uuid): results/<testId>/mushra.csv, paired_comparison.csv and bs1116.csv, each starting with
# session_test_id, then the questionnaire fields (here one, "listener"), then the per-type columns below.
# webMUSHRA names the hidden reference "reference" and the anchors "anchor35"/"anchor70".
WEBMUSHRA_MUSHRA_COLUMNS = ("session_test_id", "listener", "session_uuid", "trial_id", "rating_stimulus",
                            "rating_score", "rating_time", "rating_comment")
WEBMUSHRA_PC_COLUMNS = ("session_test_id", "listener", "trial_id", "choice_reference", "choice_non_reference",
                        "choice_answer", "choice_time", "choice_comment")
WEBMUSHRA_BS1116_COLUMNS = ("session_test_id", "listener", "trial_id", "rating_reference", "rating_non_reference",
                            "rating_reference_score", "rating_non_reference_score", "rating_time", "choice_comment")
WEBMUSHRA_STIMULUS_NAMES = {"anchor_lp35": "anchor35", "anchor_lp70": "anchor70"}


def _trial_ids(rows: Sequence[TidyRow]) -> dict[TidyRow, str]:
    """webMUSHRA's trial_id is the page id: the item, suffixed with the page when an item is shown twice."""
    pages: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in rows:
        pages[(r.session, r.item)].add(r.page)
    return {r: r.item if len(pages[(r.session, r.item)]) == 1 else f"{r.item}_p{r.page}" for r in rows}


def webmushra_mushra_rows(rows: Iterable[TidyRow]) -> list[list[str]]:
    """mushra.csv lines (header first) for the rated MUSHRA rows."""
    mushra = [r for r in rows if r.test_type == "mushra" and r.rating is not None]
    ids = _trial_ids(mushra)
    lines = [list(WEBMUSHRA_MUSHRA_COLUMNS)]
    for r in mushra:
        stimulus = WEBMUSHRA_STIMULUS_NAMES.get(r.condition, r.condition)
        lines.append([r.test_id, r.listener, r.session, ids[r], stimulus, _score(r.rating), str(r.time_ms), ""])
    return lines


def _score(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else str(value))


def webmushra_paired_comparison_rows(rows: Iterable[TidyRow]) -> list[list[str]]:
    """paired_comparison.csv lines for ABX rows: choice_answer is correct, incorrect or undecided ("don't know")."""
    abx = [r for r in rows if r.test_type == "abx"]
    lines = [list(WEBMUSHRA_PC_COLUMNS)]
    for r in abx:
        answer = "undecided" if r.correct is None else "correct" if r.correct else "incorrect"
        trial_id = f"{r.item}_p{r.page}_t{r.trial}"
        lines.append([r.test_id, r.listener, trial_id, "reference", r.condition, answer, str(r.time_ms), ""])
    return lines


def webmushra_bs1116_rows(rows: Iterable[TidyRow]) -> list[list[str]]:
    """bs1116.csv lines: one per graded condition, with the hidden-reference grade of the same trial."""
    rows = list(rows)
    times = {(r.listener, r.session, r.page, r.trial, r.item, r.condition): r.time_ms for r in rows}
    lines = [list(WEBMUSHRA_BS1116_COLUMNS)]
    test_ids = {(r.listener, r.session): r.test_id for r in rows}
    for g in diff_grades(rows):
        time_ms = times[(g.listener, g.session, g.page, g.trial, g.item, g.condition)]
        lines.append([test_ids[(g.listener, g.session)], g.listener, f"{g.item}_p{g.page}_t{g.trial}", "reference",
                      g.condition, _score(g.reference_grade), _score(g.grade), str(time_ms), ""])
    return lines


def write_webmushra_csvs(rows: Iterable[TidyRow], out_dir: Path) -> list[Path]:
    """Write mushra.csv, paired_comparison.csv and/or bs1116.csv (only those with rows) into ``out_dir``."""
    rows = list(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in (("mushra", webmushra_mushra_rows), ("paired_comparison", webmushra_paired_comparison_rows),
                        ("bs1116", webmushra_bs1116_rows)):
        lines = build(rows)
        if len(lines) > 1:
            path = out_dir / f"{name}.csv"
            with path.open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(lines)
            written.append(path)
    return written


def results_document(
    rows: Iterable[TidyRow], design: Mapping[str, Any] | None = None, analysis: Analysis | None = None
) -> dict[str, Any]:
    """The JSON export as a dict: format tag and version, the design mapping, the rows and the statistics."""
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "design": jsonable(dict(design)) if design is not None else None,
        "rows": [r.as_dict() for r in rows],
        "statistics": analysis.to_dict() if analysis is not None else None,
    }


def write_json(
    rows: Iterable[TidyRow], path: Path, design: Mapping[str, Any] | None = None, analysis: Analysis | None = None
) -> Path:
    """Write :func:`results_document` as UTF-8 JSON (strict: no NaN literals)."""
    path = Path(path)
    text = json.dumps(results_document(rows, design, analysis), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_json_rows(path: Path) -> list[TidyRow]:
    """The rows of a JSON export (:func:`write_json`), checking the format tag and version."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
        raise ValueError(f"{path}: not an EarBench results file")
    if data.get("format_version") != JSON_FORMAT_VERSION:
        raise ValueError(f"{path}: results format version {data.get('format_version')} is not supported")
    rows = []
    for entry in data["rows"]:
        if set(entry) != set(TIDY_COLUMNS):
            raise ValueError(f"{path}: a row has fields {sorted(entry)}, expected {list(TIDY_COLUMNS)}")
        rows.append(TidyRow(**entry))
    return rows
