"""The main window's *Tests* menu: run a listening test (design or bundle), see results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMainWindow

from app.audio.engine import PlaybackEngine
from app.core.listening.bundle_cache import default_bundles_dir
from app.core.listening.storage import Storage, default_db_path
from app.ui.listening.results_view import ResultsWindow
from app.ui.listening.runner import TestRunnerWindow


class ListeningMenu:
    """Adds *Tests › Run a listening test…* and *Tests › Results…* to ``window``'s menu bar.

    The runner gets its own engine on the workspace's device (fades locked at 5 ms, BS.1534-3 §5.3), and the
    workspace stops playing when a test opens, so the listener never hears both.
    """

    def __init__(self, window: QMainWindow, db_path: Path | None = None, bundles_dir: Path | None = None) -> None:
        self.window = window
        self.db_path = db_path
        self.bundles_dir = bundles_dir or default_bundles_dir()
        self._storage: Storage | None = None
        self.runner: TestRunnerWindow | None = None
        self.results: ResultsWindow | None = None
        menu = window.menuBar().addMenu("&Tests")
        self.run_action = menu.addAction("&Run a listening test…", self.open_runner)
        self.results_action = menu.addAction("Listening-test &results…", self.open_results)

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

    def open_runner(self) -> TestRunnerWindow:
        """Open a new runner window (one at a time)."""
        if self.runner is not None:
            self.runner.close()
        self.runner = TestRunnerWindow(self.storage, self._engine(), self.bundles_dir, parent=self.window)
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
