"""The results view: choose a test from the ratings database, see the per-condition plot and table, the per-item
breakdown, the post-screening (who was excluded and why) and the ABX/AB statistics; export the report, tidy CSV,
webMUSHRA CSVs, JSON or the test as a bundle; import result files from other listeners into the database (without
duplicates, so they are still there after a restart)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import EarBenchError
from app.core.listening.analysis import Analysis, analyse
from app.core.listening.bundle import export_bundle
from app.core.listening.design_parse import load_design
from app.core.listening.exports import write_json, write_tidy_csv, write_webmushra_csvs
from app.core.listening.records import TidyRow
from app.core.listening.report import write_report
from app.core.listening.storage import Storage
from app.core.listening.storage_import import import_result_files
from app.core.listening.storage_import_report import ImportReport
from app.ui.listening import results_tables as tables
from app.ui.listening.results_plot import ConditionPlot
from app.ui.notices import NoticeBar, NoticeLevel

RESERVED_LABELS = {"reference": "Hidden reference", "anchor_lp35": "Anchor 3.5 kHz", "anchor_lp70": "Anchor 7 kHz"}


class ResultsWindow(QMainWindow):
    """Results of one test at a time; the ``export_*`` and ``import_results`` methods take paths (the buttons ask).

    ``rows`` are the database's answers for the chosen test, imported ones included.
    """

    def __init__(self, storage: Storage, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("EarBench listening-test results")
        self.resize(1100, 720)
        self.storage, self.seed = storage, seed
        self.test_id: str | None = None
        self.design: dict[str, Any] = {}
        self.rows: list[TidyRow] = []
        self.analysis: Analysis | None = None
        self.last_import: ImportReport | None = None
        self.notices = NoticeBar()
        self.test_combo = QComboBox()
        self.summary_label = QLabel()
        self.plot = ConditionPlot()
        self.condition_table = tables.new_table(tables.SUMMARY_HEADER)
        self.item_table = tables.new_table(tables.ITEM_HEADER)
        self.screening_text = QTextBrowser()
        self.abx_table = tables.new_table(tables.ABX_HEADER)
        self.ab_table = tables.new_table(tables.AB_HEADER)
        self.merge_text = QTextBrowser()
        self.tabs = QTabWidget()
        conditions = QWidget()
        c_layout = QVBoxLayout(conditions)
        c_layout.addWidget(self.plot, 2)
        c_layout.addWidget(self.condition_table, 1)
        for widget, name in ((conditions, "Conditions"), (self.item_table, "Items"),
                             (self.screening_text, "Post-screening"), (self.abx_table, "ABX"),
                             (self.ab_table, "AB preference"), (self.merge_text, "Imported files")):
            self.tabs.addTab(widget, name)
        central = QWidget()
        layout = QVBoxLayout(central)
        top = QHBoxLayout()
        top.addWidget(QLabel("Test:"))
        top.addWidget(self.test_combo, 1)
        top.addWidget(self.summary_label, 2)
        layout.addWidget(self.notices)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._buttons())
        self.setCentralWidget(central)
        self.test_combo.currentIndexChanged.connect(lambda _i: self.show_test(self.test_combo.currentData()))
        self.refresh_tests()

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for text, slot in (("Report (HTML)…", self._ask_report), ("Tidy CSV…", self._ask_csv),
                           ("webMUSHRA CSVs…", self._ask_webmushra), ("JSON…", self._ask_json),
                           ("Export test as bundle…", self._ask_bundle), ("Import results…", self._ask_import)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        return row

    # ------------------------------------------------------------------ data
    def refresh_tests(self, select: str | None = None) -> None:
        """List the tests that have sessions in the database and show ``select`` (default: the first)."""
        test_ids = sorted({s.test_id for s in self.storage.sessions()})
        self.test_combo.blockSignals(True)
        self.test_combo.clear()
        for test_id in test_ids:
            name = self.storage.design_mapping(test_id).get("name", test_id)
            self.test_combo.addItem(f"{name} ({test_id})", test_id)
        self.test_combo.blockSignals(False)
        if test_ids:
            shown = select if select in test_ids else test_ids[0]
            self.test_combo.setCurrentIndex(test_ids.index(shown))
            self.show_test(shown)

    def show_test(self, test_id: str | None) -> None:
        """Show ``test_id``'s answers from the database."""
        if test_id is None:
            return
        self.test_id = test_id
        self.design = self.storage.design_mapping(test_id)
        self._show_rows(self.storage.tidy_rows(test_id))

    def labels(self) -> dict[str, str]:
        conditions = self.design.get("conditions", {})
        return {**{cid: str(spec.get("label", cid)) for cid, spec in conditions.items()}, **RESERVED_LABELS}

    def _show_rows(self, rows: Sequence[TidyRow]) -> None:
        self.rows = list(rows)
        self.analysis = analysis = analyse(self.rows, seed=self.seed, labels=self.labels())
        labels = self.labels()
        listeners = sorted({r.listener for r in self.rows})
        self.summary_label.setText(f"{len(self.rows)} answers from {len(listeners)} listener(s)")
        summaries, items, y_label, y_range, digits = {}, {}, "", (0.0, 100.0), 1
        if analysis.mushra is not None:
            summaries, items = analysis.mushra.conditions, analysis.mushra.items
            y_label = "MUSHRA score" if analysis.mushra.is_mushra else "MUSHRA-like score"
        elif analysis.bs1116 is not None:
            summaries, items = analysis.bs1116.conditions, analysis.bs1116.items
            y_label, y_range, digits = "Diff grade (system - hidden reference)", (-4.0, 4.0), 2
        self.plot.show_summaries({labels.get(c, c): s for c, s in summaries.items()}, y_label, y_range)
        tables.fill(self.condition_table, tables.summary_rows(summaries, labels, digits))
        tables.fill(self.item_table, tables.item_rows(items, labels, digits))
        tables.fill(self.abx_table, tables.abx_rows(analysis.abx, labels))
        tables.fill(self.ab_table, tables.ab_rows(analysis.ab, labels))
        self.screening_text.setHtml(self._screening_html())

    def _screening_html(self) -> str:
        analysis = self.analysis
        parts: list[str] = []
        if analysis is not None and analysis.mushra is not None:
            screening = analysis.mushra.screening
            parts.append("<h3>MUSHRA post-screening (BS.1534-3 §4.1.2)</h3>")
            for s in screening.listeners:
                verdict = "<b>excluded</b>: " + html.escape("; ".join(s.reasons)) if s.excluded else "kept"
                parts.append(f"<p>{html.escape(s.listener)}: {verdict}</p>")
            if screening.exempt_items:
                exempt = html.escape(", ".join(screening.exempt_items))
                parts.append(f"<p>25 % exception applied to items: {exempt}</p>")
            labels = self.labels()
            parts += [f"<p>⚠ {html.escape(tables.labelled_warning(w, labels))}</p>" for w in analysis.mushra.warnings]
        if analysis is not None and analysis.bs1116 is not None:
            parts.append("<h3>BS.1116 listener screening (t-test of diff grades)</h3>")
            for b in analysis.bs1116.screening:
                verdict = "<b>excluded</b>: " + html.escape(b.describe()) if b.excluded else "kept"
                parts.append(f"<p>{html.escape(b.listener)}: {verdict}</p>")
        return "\n".join(parts) or "<p>No post-screening applies to this test type.</p>"

    # ------------------------------------------------------------------ exports
    def export_report(self, path: Path) -> Path:
        return write_report(path, self.rows, design=self.design, analysis=self.analysis)

    def export_csv(self, path: Path) -> Path:
        return write_tidy_csv(self.rows, path)

    def export_webmushra(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        return write_webmushra_csvs(self.rows, folder)

    def export_json(self, path: Path) -> Path:
        return write_json(self.rows, path, design=self.design, analysis=self.analysis)

    def export_bundle(self, design_path: Path, out: Path) -> Path:
        """Bundle the test: its design file is needed (the database keeps the design, not the audio)."""
        design = load_design(design_path)
        if self.test_id is not None and design.id != self.test_id:
            raise EarBenchError(f"{design_path.name} is test {design.id!r}, not {self.test_id!r}")
        return export_bundle(design, out)

    def import_results(self, paths: Sequence[Path]) -> ImportReport:
        """Import result files (JSON or tidy CSV) from other listeners into the database, in one transaction and
        without duplicates; raises :class:`~app.core.listening.storage_import.ResultImportError` (nothing written)."""
        report = import_result_files(self.storage, paths)
        self.last_import = report
        lines = [f"<p>{html.escape(report.describe())} ({len(paths)} file(s)).</p>"]
        lines += [f"<p>{html.escape(f.source)}: {f.n_imported} imported, {f.n_present} already present, "
                  f"{f.n_new_sessions} new session(s)</p>" for f in report.files]
        lines += [f"<p>Conflict: {html.escape(c.describe())}</p>" for c in report.conflicts]
        self.merge_text.setHtml("\n".join(lines))
        self.refresh_tests(select=self.test_id)
        self.tabs.setCurrentWidget(self.merge_text)
        return report

    # ------------------------------------------------------------------ buttons
    def _ask(self, action: str, run: Any, *args: Any) -> None:
        try:
            result = run(*args)
        except (EarBenchError, OSError, ValueError) as exc:
            self.notices.show_notice("export", html.escape(f"{action} failed: {exc}"), NoticeLevel.ERROR,
                                     dismissible=True)
            return
        self.notices.show_notice("export", html.escape(f"{action}: done ({result})"), NoticeLevel.INFO,
                                 dismissible=True)

    def _save_path(self, title: str, name: str, filter_: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, name, filter_)
        return Path(path) if path else None

    def _ask_report(self) -> None:
        if path := self._save_path("Save report", f"{self.test_id}_report.html", "HTML (*.html)"):
            self._ask("Report", self.export_report, path)

    def _ask_csv(self) -> None:
        if path := self._save_path("Save tidy CSV", f"{self.test_id}.csv", "CSV (*.csv)"):
            self._ask("Tidy CSV", self.export_csv, path)

    def _ask_json(self) -> None:
        if path := self._save_path("Save JSON", f"{self.test_id}.json", "JSON (*.json)"):
            self._ask("JSON", self.export_json, path)

    def _ask_webmushra(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Folder for the webMUSHRA CSVs"):
            self._ask("webMUSHRA CSVs", self.export_webmushra, Path(folder))

    def _ask_bundle(self) -> None:
        design, _ = QFileDialog.getOpenFileName(self, "The test's design file", "", "Designs (*.yaml *.yml)")
        if design and (out := self._save_path("Save bundle", f"{self.test_id}.zip", "Bundles (*.zip)")):
            self._ask("Bundle", self.export_bundle, Path(design), out)

    def _ask_import(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Result files", "", "Results (*.json *.csv)")
        if paths:
            self._ask("Import", self.import_results, [Path(p) for p in paths])
