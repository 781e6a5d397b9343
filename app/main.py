"""Composition root: parse the command line, set up logging and the excepthook, build the services, show the window.

Services are built here and injected (no module-level singletons), so tests can build the same window with a fake
model catalog or a fake audio stream.
"""

from __future__ import annotations

import argparse
import html
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import __version__, paths
from app.audio.devices import scan_output_devices
from app.audio.engine import PlaybackEngine
from app.core.models import ModelCatalog
from app.core.renders import RenderService
from app.ui.binding_check import binding_problem
from app.ui.error_dialog import install_excepthook
from app.ui.main_window import MainWindow
from app.ui.notices import NoticeLevel
from app.ui.playback_controller import PlaybackController
from app.workers import JobRunner

logger = logging.getLogger("app")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``[FILE] [--model PATH]``."""
    parser = argparse.ArgumentParser(prog="earbench", description="Hear what a neural audio codec does.")
    parser.add_argument("file", nargs="?", type=Path, help="audio file to open")
    parser.add_argument("--model", type=Path, metavar="PATH", help="codec checkpoint file to offer and select")
    parser.add_argument("--version", action="version", version=f"EarBench {__version__}")
    return parser.parse_args(argv)


def setup_logging(log_path: Path) -> list[logging.Handler]:
    """Log INFO and above to a rotating file and warnings to stderr; returns the handlers added to the root logger."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=1 << 20, backupCount=3, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("earbench: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(file_handler)
    root.addHandler(console)
    return [file_handler, console]


@dataclass
class Services:
    """What the window drives; built once per process (or per test)."""

    catalog: ModelCatalog
    renders: RenderService
    engine: PlaybackEngine
    runner: JobRunner

    def close(self) -> None:
        """Cancel background jobs and release the audio device."""
        self.runner.shutdown()
        self.engine.close()


def build_services(catalog: ModelCatalog | None = None, engine: PlaybackEngine | None = None) -> Services:
    """Build the services; pass ``catalog`` or ``engine`` to replace the real ones."""
    catalog = catalog or ModelCatalog()
    if engine is None:
        scan = scan_output_devices()
        engine = PlaybackEngine(scan.default, unavailable_reason=scan.problem)
        logger.info("Audio output: %s", scan.default.label if scan.default else scan.problem)
    return Services(catalog=catalog, renders=RenderService(catalog), engine=engine, runner=JobRunner())


def create_main_window(args: argparse.Namespace, services: Services) -> MainWindow:
    """Build the window around ``services`` and start opening what the command line names."""
    window = MainWindow(services.catalog, services.renders, PlaybackController(services.engine), services.runner)
    icon = paths.icon_path()
    if icon.is_file():
        window.setWindowIcon(QIcon(str(icon)))
    problem = binding_problem()
    if problem is not None:
        logger.warning(problem)
        window.notices.show_notice("qt-binding", html.escape(problem), NoticeLevel.WARNING, dismissible=True)
    if args.model is not None:
        window.open_model_file(args.model)
    if args.file is not None:
        window.open_file(args.file)
    return window


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    args = parse_args(argv)
    log_path = paths.log_file_path()
    handlers = setup_logging(log_path)
    logger.info("EarBench %s starting (Python %s)", __version__, sys.version.split()[0])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(paths.APP_NAME)
    app.setDesktopFileName("earbench")
    _, previous_hook = install_excepthook(log_path)
    services = build_services()
    try:
        window = create_main_window(args, services)
        window.show()
        return app.exec()
    finally:
        services.close()
        sys.excepthook = previous_hook
        logger.info("EarBench exiting")
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
