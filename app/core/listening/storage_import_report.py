"""The report of a result-file import (:mod:`app.core.listening.storage_import`): per file, the answers added, those
already stored (identical) and the conflicts (stored answers with other values; the stored version is kept)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.listening.results_merge import Conflict


@dataclass(frozen=True)
class FileImport:
    """What one file did: answers added, answers already stored (identical), new sessions, conflicts."""

    source: str
    n_imported: int
    n_present: int
    n_new_sessions: int
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    """The outcome of one import (one transaction), file by file."""

    files: tuple[FileImport, ...] = field(default_factory=tuple)

    @property
    def n_imported(self) -> int:
        return sum(f.n_imported for f in self.files)

    @property
    def n_present(self) -> int:
        return sum(f.n_present for f in self.files)

    @property
    def n_new_sessions(self) -> int:
        return sum(f.n_new_sessions for f in self.files)

    @property
    def conflicts(self) -> list[Conflict]:
        return [c for f in self.files for c in f.conflicts]

    def describe(self) -> str:
        """``"N answers imported, M already present"``, plus the conflicts when there are any."""
        text = f"{self.n_imported} answers imported, {self.n_present} already present"
        if self.conflicts:
            text += f", {len(self.conflicts)} conflicting (the stored version is kept)"
        return text

    def __str__(self) -> str:
        return self.describe()
