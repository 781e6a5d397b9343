"""Where the app finds its resources and keeps its files, in a source tree and in a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "EarBench"
DATA_DIR_NAME = "earbench"  # the same per-user folder codec.catalog (models) and the ratings database use
LOG_FILE_NAME = "earbench.log"
EXAMPLE_CLIP_NAME = "example.flac"


def resources_dir() -> Path:
    """The ``resources/`` folder: next to ``app/`` in a source tree, under ``sys._MEIPASS`` when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def icon_path() -> Path:
    """The app icon (SVG)."""
    return resources_dir() / "icons" / "earbench.svg"


def example_clip_path() -> Path:
    """The example clip shipped with the app (may be missing in a partial checkout)."""
    return resources_dir() / "examples" / EXAMPLE_CLIP_NAME


def user_data_dir() -> Path:
    """Per-user data folder (sessions, ratings); not created here."""
    return Path(platformdirs.user_data_dir(DATA_DIR_NAME, appauthor=False))


def user_log_dir() -> Path:
    """Per-user log folder; not created here."""
    return Path(platformdirs.user_log_dir(DATA_DIR_NAME, appauthor=False))


def log_file_path() -> Path:
    """The log file the app writes and error dialogs point at."""
    return user_log_dir() / LOG_FILE_NAME
