"""What the app remembers between runs (QSettings): recent files, last folder, audio output, colour map, layout."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.core.recent_files import add_recent, prune_missing
from app.core.spectrogram import SPECTRUM_COLORMAP

ORGANIZATION = APPLICATION = "EarBench"
DEFAULT_BLOCKSIZE = 512
BLOCKSIZES = (128, 256, 512, 1024, 2048)
#: Perceptually uniform colour maps offered for the spectra (pyqtgraph names).
COLORMAPS = ("inferno", "magma", "viridis", "plasma", "CET-L1", "CET-L3")


def default_qsettings() -> QSettings:
    """The per-user settings file (an INI file, so tests can redirect it with ``QSettings.setPath``)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class AppSettings:
    """Typed access to the settings; values are read and written through immediately."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else default_qsettings()

    def _str_list(self, key: str) -> list[str]:
        value = self.qsettings.value(key, [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-element list
            return [value]
        return [str(v) for v in value or []]

    # ------------------------------------------------------------------ files
    def recent_files(self) -> list[str]:
        """Recent files that still exist, most recent first (missing ones are pruned from the settings)."""
        stored = self._str_list("files/recent")
        kept = prune_missing(stored)
        if kept != stored:
            self.qsettings.setValue("files/recent", kept)
        return kept

    def add_recent_file(self, path: str | os.PathLike[str]) -> list[str]:
        """Record an opened file; also remembers its folder as the last folder."""
        recent = add_recent(self._str_list("files/recent"), path)
        self.qsettings.setValue("files/recent", recent)
        self.set_last_folder(str(Path(recent[0]).parent))
        return recent

    def clear_recent_files(self) -> None:
        """Forget the recent files."""
        self.qsettings.setValue("files/recent", [])

    def last_folder(self) -> str:
        """The folder of the last file opened or saved ('' if none or gone)."""
        folder = str(self.qsettings.value("files/last_folder", "") or "")
        return folder if folder and os.path.isdir(folder) else ""

    def set_last_folder(self, folder: str) -> None:
        self.qsettings.setValue("files/last_folder", folder)

    # ------------------------------------------------------------ preferences
    def output_device_name(self) -> str:
        """The chosen output device's label ('' for the system default)."""
        return str(self.qsettings.value("audio/device", "") or "")

    def has_output_choice(self) -> bool:
        """Whether the user ever chose an output device or buffer size (else the engine's defaults stand)."""
        return self.qsettings.contains("audio/blocksize")

    def blocksize(self) -> int:
        """Frames per audio callback."""
        try:
            value = int(self.qsettings.value("audio/blocksize", DEFAULT_BLOCKSIZE))
        except (TypeError, ValueError):
            return DEFAULT_BLOCKSIZE
        return value if value in BLOCKSIZES else DEFAULT_BLOCKSIZE

    def set_output(self, device_name: str, blocksize: int) -> None:
        self.qsettings.setValue("audio/device", device_name)
        self.qsettings.setValue("audio/blocksize", int(blocksize))

    def colormap(self) -> str:
        """The spectra's colour map name."""
        name = str(self.qsettings.value("view/colormap", SPECTRUM_COLORMAP) or SPECTRUM_COLORMAP)
        return name if name in COLORMAPS else SPECTRUM_COLORMAP

    def set_colormap(self, name: str) -> None:
        self.qsettings.setValue("view/colormap", name)

    def log_frequency(self) -> bool:
        """Whether the spectrograms use a logarithmic frequency axis."""
        return str(self.qsettings.value("view/log_frequency", "false")).lower() == "true"

    def set_log_frequency(self, enabled: bool) -> None:
        self.qsettings.setValue("view/log_frequency", "true" if enabled else "false")

    def anchors_by_default(self) -> bool:
        """Whether a new file's conditions include the two anchors."""
        return str(self.qsettings.value("conditions/anchors", "false")).lower() == "true"

    def set_anchors_by_default(self, enabled: bool) -> None:
        self.qsettings.setValue("conditions/anchors", "true" if enabled else "false")

    # ----------------------------------------------------------------- window
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, state) saved by the main window, or None."""
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        """Write to disk now."""
        self.qsettings.sync()
