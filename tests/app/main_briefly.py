"""Run ``app.main.main(argv)`` until the window has opened its clip, then quit and print what the window showed.

Used by ``test_app_main.py`` in a subprocess: ``QApplication.exec()`` leaves the thread's event loops unable to run
again, so the real event loop must not run inside the pytest process.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.main import main
from app.ui.main_window import MainWindow


def run(argv: list[str]) -> int:
    app = QApplication(sys.argv[:1])
    report: dict[str, object] = {}

    def check() -> None:
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].state.clip is not None:
            window = windows[0]
            report.update(
                title=window.windowTitle(),
                clip=window.clip_label.text(),
                notices=[key for key in ("no-model", "no-audio") if window.notices.has_notice(key)],
                excepthook=type(sys.excepthook).__name__,
            )
            app.quit()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(50, check)
    QTimer.singleShot(30_000, app.quit)
    code = main(argv)
    report["excepthook_after"] = type(sys.excepthook).__name__
    print(json.dumps(report))
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
