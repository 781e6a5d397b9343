"""The main window's *Tests* menu: design a test from the workspace, run a listening test (design or bundle), see
results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMainWindow

from app.audio.engine import PlaybackEngine
from app.core.conditions import ConditionList
from app.core.listening.bundle_cache import default_bundles_dir
from app.core.listening.design import TestDesign
from app.core.listening.from_workspace import WorkspaceState, workspace_state
from app.core.listening.storage import Storage, default_db_path
from app.ui.listening.new_test_dialog import NewTestDialog
from app.ui.listening.results_view import ResultsWindow
from app.ui.listening.runner import TestRunnerWindow
from app.workers import JobRunner


class ListeningMenu:
    """Adds *Tests › New Test from Workspace…*, *Run a listening test…* and *Results…* to ``window``'s menu bar.

    The runner gets its own engine on the workspace's device (fades locked at 5 ms, BS.1534-3 §5.3), and the
    workspace stops playing when a test opens, so the listener never hears both. The workspace is read from
    ``window.workspace`` (its ``clip`` and ``conditions``); *New Test from Workspace…* is enabled while it holds
    an item.
    """

    def __init__(self, window: QMainWindow, db_path: Path | None = None, bundles_dir: Path | None = None) -> None:
        self.window = window
        self.db_path = db_path
        self.bundles_dir = bundles_dir or default_bundles_dir()
        self._storage: Storage | None = None
        self.runner: TestRunnerWindow | None = None
        self.results: ResultsWindow | None = None
        self.new_test_dialog: NewTestDialog | None = None
        menu = window.menuBar().addMenu("&Tests")
        self.new_test_action = menu.addAction("&New Test from Workspace…", self.open_new_test)
        menu.addSeparator()
        self.run_action = menu.addAction("&Run a listening test…", self.open_runner)
        self.results_action = menu.addAction("Listening-test &results…", self.open_results)
        menu.aboutToShow.connect(self.update_actions)
        changed = getattr(getattr(window, "workspace", None), "progress_changed", None)
        if changed is not None:  # a new item or a finished render
            changed.connect(self.update_actions)
        self.update_actions()

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = Storage(self.db_path or default_db_path())
        return self._storage

    def _engine(self) -> PlaybackEngine:
        playback = getattr(self.window, "playback", None)
        main = getattr(playback, "engine", None)
        if playback is not None:
            playback.stop()
        if isinstance(main, PlaybackEngine):
            return PlaybackEngine(main.device, unavailable_reason=main.unavailable_reason, blocksize=main.blocksize,
                                  fade_ms=5.0)
        return PlaybackEngine(None, unavailable_reason="No audio engine in this window.")

    def workspace_state(self) -> WorkspaceState:
        """The window's workspace item and conditions (empty when it has no workspace or no item)."""
        workspace = getattr(self.window, "workspace", None)
        conditions = getattr(workspace, "conditions", None)
        return workspace_state(getattr(workspace, "clip", None),
                               conditions if isinstance(conditions, ConditionList) else ConditionList())

    def update_actions(self, *_args: object) -> None:
        """Enable *New Test from Workspace…* while the workspace holds an item."""
        workspace = getattr(self.window, "workspace", None)
        self.new_test_action.setEnabled(getattr(workspace, "clip", None) is not None)

    def open_new_test(self) -> NewTestDialog | None:
        """Show the new-test dialog for the workspace's item; a saved design opens in the runner if asked."""
        state = self.workspace_state()
        if not state.items:
            return None
        if self.new_test_dialog is not None:
            self.new_test_dialog.close()
        self.new_test_dialog = dialog = NewTestDialog(state, parent=self.window)
        dialog.design_created.connect(lambda design: self._design_created(dialog, design))
        dialog.open()
        return dialog

    def _design_created(self, dialog: NewTestDialog, design: TestDesign) -> None:
        if dialog.start_check.isChecked() and design.source is not None:
            # The researcher has just seen the design's warnings in the dialog.
            self.open_runner().open_design(design.source, show_warnings=False)

    def open_runner(self) -> TestRunnerWindow:
        """Open a new runner window (one at a time)."""
        if self.runner is not None:
            self.runner.close()
        jobs = getattr(self.window, "runner", None)  # the main window's JobRunner renders the MUSHRA anchors
        self.runner = TestRunnerWindow(self.storage, self._engine(), self.bundles_dir, parent=self.window,
                                       jobs=jobs if isinstance(jobs, JobRunner) else None)
        self.runner.session_finished.connect(lambda _test_id: self.results and self.results.refresh_tests())
        self.runner.show()
        return self.runner

    def open_results(self) -> ResultsWindow:
        """Show the results window (built once, refreshed on every opening)."""
        if self.results is None:
            self.results = ResultsWindow(self.storage, parent=self.window)
        else:
            self.results.refresh_tests()
        self.results.show()
        self.results.raise_()
        return self.results


def install_listening_menu(window: QMainWindow, db_path: Path | None = None,
                           bundles_dir: Path | None = None) -> ListeningMenu:
    """Add the *Tests* menu to ``window`` (kept on ``window.listening_menu``) and return it."""
    menu = ListeningMenu(window, db_path, bundles_dir)
    window.listening_menu = menu  # type: ignore[attr-defined]
    return menu
