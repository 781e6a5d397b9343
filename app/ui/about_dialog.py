"""Help › About: the versions of the app, the default model and the libraries, and where the log file is.

The same rows can be copied as text, so a bug report carries exactly what the dialog shows.
"""

from __future__ import annotations

import html
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app import __version__, paths
from app.core.about import NOT_FOUND, ModelSummary, default_model, describe_provenance, library_versions

NO_MODEL_TEXT = "No EarBench model is installed (official EnCodec checkpoints or a model file can still be used)."


def portaudio_version() -> str:
    """The PortAudio library sounddevice loaded ("PortAudio V19.6.0-devel…"), or "not found"."""
    try:
        from app.audio.devices import import_sounddevice

        return str(import_sounddevice().get_portaudio_version()[1])
    except (ImportError, OSError):
        return NOT_FOUND


def all_versions() -> list[tuple[str, str]]:
    """(label, version) rows: EarBench, then Python and the libraries, Qt and PortAudio."""
    rows = [("EarBench", __version__)]
    rows += library_versions()
    rows += [("PySide6", PySide6.__version__), ("Qt", qVersion()), ("PortAudio", portaudio_version())]
    return rows


def model_rows(model: ModelSummary | None) -> list[tuple[str, str]]:
    """(label, text) rows describing the default model; one row when there is none."""
    if model is None:
        return [("Model", NO_MODEL_TEXT)]
    rates = ", ".join(f"{b:g}" for b in model.bitrates_kbps)
    rows = [("Model", f"{model.name} ({model.sample_rate / 1000:g} kHz; {rates} kbps)"), ("File", str(model.path))]
    rows += describe_provenance(model.provenance)
    if model.card_path is not None:
        rows.append(("Model card", str(model.card_path)))
    return rows


def as_text(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """Plain text of the dialog's sections, for the clipboard."""
    lines = []
    for title, rows in sections:
        lines.append(f"[{title}]")
        lines += [f"{label}: {value}" for label, value in rows]
    return "\n".join(lines)


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td><b>{html.escape(label)}</b>&nbsp;&nbsp;</td><td>{html.escape(value)}</td></tr>"
        for label, value in rows
    )
    return f"<table>{cells}</table>"


class AboutDialog(QDialog):
    """Versions of EarBench, its default model and libraries, and the log file path.

    Parameters
    ----------
    parent : QWidget, optional
        The main window.
    model : ModelSummary, optional
        The model to describe; by default the installed default model is looked up.
    log_path : Path, optional
        The log file to show; by default the app's.
    """

    def __init__(
        self, parent: QWidget | None = None, model: ModelSummary | None = None, log_path: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About EarBench")
        self.sections = [
            ("Model", model_rows(model if model is not None else default_model())),
            ("Versions", all_versions()),
            ("Files", [("Log file", str(log_path or paths.log_file_path()))]),
        ]
        intro = QLabel(
            "<h3>EarBench</h3><p>Hear what a neural audio codec does: an EnCodec-compatible codec and a listening "
            "workbench.</p>"
        )
        self.body = QLabel("".join(f"<h4>{title}</h4>{_table(rows)}" for title, rows in self.sections))
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy versions", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.body)
        layout.addWidget(buttons)

    def text(self) -> str:
        """The dialog's content as plain text."""
        return as_text(self.sections)

    def copy_to_clipboard(self) -> None:
        """Put :meth:`text` on the clipboard (for bug reports)."""
        QApplication.clipboard().setText(self.text())
