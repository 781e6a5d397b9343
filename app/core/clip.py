"""A loaded audio clip: the original signal every reconstruction is compared with."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import ClipLoadError

#: Reads an audio file into (float32 [C, T], sample_rate); the default is ``codec.audio.read_audio``.
AudioReader = Callable[[Path], "tuple[np.ndarray, int]"]

_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, eq=False)
class Clip:
    """An immutable audio clip loaded from a file.

    Attributes
    ----------
    path : Path
        The file it was read from.
    audio : np.ndarray
        float32 samples, shape [C, T], read-only.
    sample_rate : int
        Samples per second of ``audio``.
    sha256 : str
        Hex SHA-256 of the file's bytes: identifies the clip in render caches and results.
    offset_s : float
        Where the clip starts in the file, in seconds (non-zero for an excerpt).
    """

    path: Path
    audio: np.ndarray
    sample_rate: int
    sha256: str
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        if self.audio.ndim != 2 or self.audio.shape[1] == 0:
            raise ValueError(f"audio must have shape [C, T] with T > 0, got {self.audio.shape}")
        if self.audio.dtype != np.float32:
            raise ValueError(f"audio must be float32, got {self.audio.dtype}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        self.audio.flags.writeable = False

    @property
    def name(self) -> str:
        """The file name, for display."""
        return self.path.name

    @property
    def channels(self) -> int:
        """Number of channels C."""
        return int(self.audio.shape[0])

    @property
    def num_samples(self) -> int:
        """Number of samples per channel T."""
        return int(self.audio.shape[1])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.num_samples / self.sample_rate


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _codec_reader(path: Path) -> tuple[np.ndarray, int]:
    # Imported here: ``codec`` pulls in torch, which the window should not wait for at start-up.
    from codec import CodecError
    from codec.audio import read_audio

    try:
        return read_audio(path)
    except CodecError as exc:
        raise ClipLoadError(f"Cannot open {path.name}: {exc}") from exc


def load_clip(path: str | os.PathLike[str], reader: AudioReader | None = None) -> Clip:
    """Read an audio file into a :class:`Clip`.

    Parameters
    ----------
    path : str or PathLike
        The audio file (any format ``codec.audio.read_audio`` reads).
    reader : AudioReader, optional
        Replaces ``codec.audio.read_audio`` (for tests).

    Returns
    -------
    Clip
        The clip with float32 [C, T] audio and the file's SHA-256.

    Raises
    ------
    ClipLoadError
        The file is missing, unreadable, or holds no usable audio.
    """
    file_path = Path(path).expanduser()
    if not file_path.is_file():
        raise ClipLoadError(f"No such file: {file_path}")
    try:
        sha256 = file_sha256(file_path)
    except OSError as exc:
        raise ClipLoadError(f"Cannot read {file_path.name}: {exc.strerror or exc}") from exc
    audio, sample_rate = (reader or _codec_reader)(file_path)
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[np.newaxis, :]
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise ClipLoadError(f"{file_path.name} holds no audio samples")
    if not np.isfinite(audio).all():
        raise ClipLoadError(f"{file_path.name} contains NaN or infinite samples")
    return Clip(path=file_path, audio=audio, sample_rate=int(sample_rate), sha256=sha256)


#: Files longer than this are offered an excerpt before anything is rendered.
LONG_CLIP_S = 60.0
#: The excerpt proposed for a long file, in seconds.
DEFAULT_EXCERPT_S = 20.0


def excerpt(clip: Clip, start_s: float, duration_s: float) -> Clip:
    """The part of ``clip`` from ``start_s`` lasting ``duration_s`` (clamped to the clip), as a clip of its own.

    Its ``sha256`` is the file's hash with the sample range appended, so renders of different excerpts of one file
    never share a cache entry.

    Raises
    ------
    ValueError
        The range holds no samples.
    """
    start = min(max(round(start_s * clip.sample_rate), 0), clip.num_samples - 1)
    stop = min(start + max(round(duration_s * clip.sample_rate), 0), clip.num_samples)
    if stop <= start:
        raise ValueError(f"the excerpt {start_s:g} s + {duration_s:g} s holds no samples")
    if start == 0 and stop == clip.num_samples:
        return clip
    audio = np.array(clip.audio[:, start:stop], dtype=np.float32, order="C")
    sha256 = f"{clip.sha256}:{start}-{stop}"
    return Clip(clip.path, audio, clip.sample_rate, sha256, offset_s=clip.offset_s + start / clip.sample_rate)
