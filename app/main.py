"""Composition root: parse the command line, set up logging and the excepthook, build the services, show the window.

Services are built here and injected (no module-level singletons), so tests can build the same window with a fake
model catalog or a fake audio stream.
"""

from __future__ import annotations

import argparse
import html
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import __version__, paths
from app.audio.devices import scan_output_devices
from app.audio.engine import PlaybackEngine
from app.core.models import ModelCatalog
from app.core.renders import RenderService
from app.logging_setup import remove_handlers, setup_logging
from app.smoke import SmokeCheck
from app.ui.app_settings import default_qsettings
from app.ui.binding_check import binding_problem
from app.ui.error_dialog import install_excepthook, restore_excepthooks
from app.ui.first_run_guide import is_first_run, mark_first_run_done
from app.ui.main_window import MainWindow
from app.ui.notices import NoticeLevel
from app.ui.playback_controller import PlaybackController
from app.workers import JobRunner

logger = logging.getLogger("app")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``[FILE] [--model PATH] [--smoke-test]``."""
    parser = argparse.ArgumentParser(prog="earbench", description="Hear what a neural audio codec does.")
    parser.add_argument("file", nargs="?", type=Path, help="audio file to open")
    parser.add_argument("--model", type=Path, metavar="PATH", help="codec checkpoint file to offer and select")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the example clip (or FILE), render one condition, print a report and exit (0 = passed)",
    )
    parser.add_argument("--smoke-timeout-s", type=float, default=300.0, help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"EarBench {__version__}")
    return parser.parse_args(argv)


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


def first_run(args: argparse.Namespace, settings: QSettings) -> bool:
    """On the first start, open the example clip unless a file was named; True when this is the first start.

    The smoke test never counts as a first start (it must not change the user's settings).
    """
    if args.smoke_test or not is_first_run(settings):
        return False
    example = paths.example_clip_path()
    if args.file is None and example.is_file():
        args.file = example
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    args = parse_args(argv)
    log_path = paths.log_file_path()
    handlers = setup_logging(log_path)
    logger.info("EarBench %s starting (Python %s)", __version__, sys.version.split()[0])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(paths.APP_NAME)
    app.setDesktopFileName("earbench")
    hook, previous_hook = install_excepthook(log_path)
    settings = default_qsettings()
    show_guide = first_run(args, settings)
    if args.smoke_test and args.file is None:
        args.file = paths.example_clip_path()
    services = build_services()
    try:
        window = create_main_window(args, services)
        window.show()
        if show_guide:
            window.help_menu.show_guide()
            mark_first_run_done(settings)
        if args.smoke_test:
            timeout_s = args.smoke_timeout_s
            smoke = SmokeCheck(services.catalog, services.renders, services.runner, hook, args.file, timeout_s)
            smoke.start(time.time())
        return app.exec()
    finally:
        services.close()
        restore_excepthooks(hook, previous_hook)
        logger.info("EarBench exiting")
        remove_handlers(handlers)
