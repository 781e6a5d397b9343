"""``earbench --smoke-test``: with the window up, render one condition of the example clip, report, and exit.

Exit status: 0 passed; 1 the render or a library check failed; 2 timed out; 3 an uncaught exception was reported
(sys.excepthook or threading.excepthook). The report is one line, ``SMOKE_PREFIX`` followed by JSON, on stdout.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer

from app.core.models import ModelCatalog
from app.core.renders import RenderService
from app.core.smoke import SmokeReport, run_smoke_render
from app.ui.about_dialog import all_versions
from app.ui.error_dialog import ExceptionHook
from app.workers import JobContext, JobRunner

logger = logging.getLogger(__name__)

SMOKE_PREFIX = "EARBENCH-SMOKE "
EXIT_PASSED, EXIT_FAILED, EXIT_TIMEOUT, EXIT_UNCAUGHT = 0, 1, 2, 3


class SmokeCheck:
    """Runs the smoke render in the app's job runner and ends the event loop with the outcome.

    Parameters
    ----------
    catalog, renders, runner : ModelCatalog, RenderService, JobRunner
        The app's services: the render goes through the same path as the window's.
    hook : ExceptionHook
        The installed exception hook; any exception it saw fails the check.
    clip_path : Path
        The clip to open (the bundled example).
    timeout_s : float
        Give up after this long.
    """

    def __init__(
        self,
        catalog: ModelCatalog,
        renders: RenderService,
        runner: JobRunner,
        hook: ExceptionHook,
        clip_path: Path,
        timeout_s: float,
    ) -> None:
        self.catalog, self.renders, self.runner = catalog, renders, runner
        self.hook = hook
        self.clip_path = clip_path
        self.timeout_s = timeout_s
        self.window_shown_unix_s = time.time()
        self.scratch_dir = Path(tempfile.mkdtemp(prefix="earbench-smoke-"))
        self.exit_code: int | None = None
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self._finish(EXIT_TIMEOUT, {"error": f"timed out after {timeout_s:g} s"}))

    def start(self, window_shown_unix_s: float) -> None:
        """Submit the render; the event loop ends when it succeeds, fails or times out."""
        self.window_shown_unix_s = window_shown_unix_s
        libraries = all_versions()  # on the GUI thread: PySide6/Qt versions are read here

        def job(context: JobContext) -> SmokeReport:
            return run_smoke_render(
                self.clip_path, self.catalog, self.renders, self.scratch_dir, libraries, context.cancelled
            )

        self._timer.start(round(self.timeout_s * 1000))
        self.runner.submit("smoke", job, self._on_done, lambda exc: self._finish(EXIT_FAILED, {"error": repr(exc)}))

    def _on_done(self, report: SmokeReport) -> None:
        fields = report.as_dict()
        if self.hook.count:
            self._finish(EXIT_UNCAUGHT, {**fields, "error": f"{self.hook.count} uncaught exception(s); see the log"})
        else:
            self._finish(EXIT_PASSED, fields)

    def _finish(self, code: int, fields: dict[str, object]) -> None:
        if self.exit_code is not None:
            return
        self.exit_code = code
        self._timer.stop()
        report = {
            "passed": code == EXIT_PASSED,
            "exit_code": code,
            "window_shown_unix_s": round(self.window_shown_unix_s, 3),
            "done_unix_s": round(time.time(), 3),
            **fields,
        }
        print(SMOKE_PREFIX + json.dumps(report), flush=True)
        (logger.info if code == EXIT_PASSED else logger.error)("Smoke test: %s", report)
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
        QCoreApplication.exit(code)
