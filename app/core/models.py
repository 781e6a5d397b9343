"""The codec models the app may offer, and a cache of the loaded ones.

Only *trained* models are ever offered: the installed models that ``codec.list_models()`` reports as trained, plus
checkpoint files the user opened explicitly. A file whose weights are known to be untrained is labelled so in its
display name; it is never presented as a codec the way an installed model is.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.core.errors import ModelLoadError

#: Official checkpoints the app looks for, and where.
OFFICIAL_CHECKPOINTS = ("encodec_24khz-d7cc33bc.th", "encodec_48khz-7e698e3e.th")
OFFICIAL_CHECKPOINT_DIR = "~/.cache/torch/hub/checkpoints/"


class CodecLike(Protocol):
    """The part of ``codec.Codec`` the app uses."""

    name: str
    sample_rate: int
    channels: int
    bitrates_kbps: tuple[float, ...]

    def reconstruct(
        self, audio: Any, sample_rate: int, bitrate_kbps: float, progress: Callable[[int, int], None] | None = None
    ) -> Any: ...


@dataclass(frozen=True)
class ModelEntry:
    """A model the user can pick.

    Attributes
    ----------
    model_id : str
        Stable key for caches: the installed name, or ``file:<path>:<size>:<mtime_ns>`` for an opened file.
    display_name : str
        What the model combo shows.
    source : str
        What ``codec.load_codec`` receives (a name or a path).
    sample_rate : int
        The model's native rate in Hz.
    channels : int
        The model's native channel count.
    bitrates_kbps : tuple of float
        The bitrates it offers, ascending.
    trained : bool or None
        False when the weights are known to be untrained (tests only), None when unknown.
    """

    model_id: str
    display_name: str
    source: str
    sample_rate: int
    channels: int
    bitrates_kbps: tuple[float, ...]
    trained: bool | None = True

    @property
    def default_bitrate_kbps(self) -> float:
        """6 kbps when offered (EnCodec's usual operating point), else the lowest bitrate."""
        return 6.0 if 6.0 in self.bitrates_kbps else self.bitrates_kbps[0]


def _list_installed() -> list[Any]:
    from codec import list_models

    return list(list_models())


def _load(source: str) -> CodecLike:
    from codec import CodecError, load_codec

    try:
        return load_codec(source)
    except (CodecError, OSError) as exc:
        raise ModelLoadError(str(exc)) from exc


class ModelCatalog:
    """The models on offer, and the loaded codecs behind them (loaded once, then cached).

    Thread-safe: ``refresh``, ``add_file`` and ``codec`` may run in worker threads.

    Parameters
    ----------
    lister : callable, optional
        Returns installed models as objects with ``name, path, sample_rate, channels, bitrates_kbps, trained``;
        defaults to ``codec.list_models``. Inject an empty list to simulate a machine with no model.
    loader : callable, optional
        Loads a codec from a name or path; defaults to ``codec.load_codec``.
    """

    def __init__(
        self,
        lister: Callable[[], Sequence[Any]] | None = None,
        loader: Callable[[str], CodecLike] | None = None,
    ) -> None:
        self._lister = lister or _list_installed
        self._loader = loader or _load
        self._lock = threading.Lock()
        self._installed: tuple[ModelEntry, ...] = ()
        self._files: dict[str, ModelEntry] = {}
        self._codecs: dict[str, CodecLike] = {}

    def entries(self) -> tuple[ModelEntry, ...]:
        """Installed trained models first, then opened files, in the order they were added."""
        with self._lock:
            return self._installed + tuple(self._files.values())

    def refresh(self) -> tuple[ModelEntry, ...]:
        """Ask the codec library which trained models are installed; return all entries."""
        try:
            infos = self._lister()
        except Exception as exc:
            raise ModelLoadError(f"Could not list the installed models: {exc}") from exc
        installed = tuple(
            ModelEntry(
                model_id=info.name,
                display_name=f"{info.name} ({info.sample_rate / 1000:g} kHz)",
                source=str(info.path) if info.path is not None else info.name,
                sample_rate=int(info.sample_rate),
                channels=int(info.channels),
                bitrates_kbps=tuple(sorted(float(b) for b in info.bitrates_kbps)),
            )
            for info in infos
            if info.trained
        )
        with self._lock:
            self._installed = installed
        return self.entries()

    def add_file(self, path: str | os.PathLike[str]) -> ModelEntry:
        """Load a checkpoint file the user chose and offer it; returns its entry.

        Raises
        ------
        ModelLoadError
            The file is missing or is not a checkpoint ``codec.load_codec`` accepts.
        """
        file_path = Path(path).expanduser().resolve()
        try:
            stat = file_path.stat()
        except OSError as exc:
            raise ModelLoadError(f"No such model file: {file_path}") from exc
        model_id = f"file:{file_path}:{stat.st_size}:{stat.st_mtime_ns}"
        codec = self._loader(str(file_path))
        trained = getattr(codec, "trained", None)
        label = f"{file_path.name} ({codec.sample_rate / 1000:g} kHz)"
        if trained is False:
            label += " [untrained weights]"
        entry = ModelEntry(
            model_id=model_id,
            display_name=label,
            source=str(file_path),
            sample_rate=int(codec.sample_rate),
            channels=int(codec.channels),
            bitrates_kbps=tuple(sorted(float(b) for b in codec.bitrates_kbps)),
            trained=trained if isinstance(trained, bool) else None,
        )
        with self._lock:
            self._files[model_id] = entry
            self._codecs[model_id] = codec
        return entry

    def register(self, entry: ModelEntry, codec: CodecLike | None = None) -> None:
        """Offer ``entry`` (with its codec already loaded, if given); replaces an entry with the same id."""
        with self._lock:
            self._files[entry.model_id] = entry
            if codec is not None:
                self._codecs[entry.model_id] = codec

    def entry(self, model_id: str) -> ModelEntry:
        """Return the entry with this id; raises ``ModelLoadError`` if it is not on offer."""
        for entry in self.entries():
            if entry.model_id == model_id:
                return entry
        raise ModelLoadError(f"Unknown model {model_id!r}")

    def codec(self, model_id: str) -> CodecLike:
        """Return the loaded codec for ``model_id``, loading it on first use (slow: call from a worker)."""
        with self._lock:
            cached = self._codecs.get(model_id)
        if cached is not None:
            return cached
        codec = self._loader(self.entry(model_id).source)
        with self._lock:
            return self._codecs.setdefault(model_id, codec)
