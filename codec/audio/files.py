"""Audio files: header info, whole-file and block-by-block reading, and writing (soundfile, bundled libsndfile).

Audio is returned and taken as NumPy arrays ``[C, T]`` (see :mod:`codec.audio.arrays`). A problem with the file
raises :class:`AudioFileError` and one with its samples :class:`InvalidAudioError`, with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from codec.audio.arrays import as_audio_array, check_sample_rate
from codec.errors import AudioFileError, InvalidAudioError

__all__ = ["WRITE_FORMATS", "AudioFileInfo", "iter_audio_blocks", "read_audio", "read_audio_info", "write_audio"]

WRITE_FORMATS = {".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24"), ".ogg": ("OGG", "VORBIS")}
"""Extension -> (soundfile format, subtype used when the requested one does not exist in that format)."""
_FILE_ERRORS = (sf.SoundFileError, RuntimeError, OSError, ValueError, TypeError)


def _reason(exc: Exception) -> str:
    """libsndfile's own words ("Format not recognised") without soundfile's "Error opening <path>" prefix."""
    return str(getattr(exc, "error_string", None) or exc)


@dataclass(frozen=True)
class AudioFileInfo:
    """What an audio file holds, read from its header."""

    sample_rate: int
    channels: int
    num_frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.sample_rate


def _check_readable(path: str | os.PathLike) -> str:
    name = os.fspath(path)
    if not os.path.exists(name):
        raise AudioFileError(f"cannot read audio file {name!r}: no such file")
    if os.path.isdir(name):
        raise AudioFileError(f"cannot read audio file {name!r}: it is a directory")
    if os.path.getsize(name) == 0:
        raise AudioFileError(f"cannot read audio file {name!r}: the file is empty")
    return name


def read_audio_info(path: str | os.PathLike) -> AudioFileInfo:
    """Sample rate, channels, length and format of an audio file, without reading its samples."""
    name = _check_readable(path)
    try:
        info = sf.info(name)
    except _FILE_ERRORS as exc:
        raise AudioFileError(f"cannot read audio file {name!r}: {_reason(exc)}") from None
    return AudioFileInfo(int(info.samplerate), int(info.channels), int(info.frames), info.format, info.subtype)


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a whole audio file.

    Returns
    -------
    audio : np.ndarray
        float32 ``[C, T]``.
    sample_rate : int
        In Hz.

    Raises
    ------
    AudioFileError
        Missing, empty, corrupt or unsupported file, or one with no samples.
    InvalidAudioError
        NaN or Inf samples (possible in float WAV files).
    """
    name = _check_readable(path)
    try:
        frames, sample_rate = sf.read(name, dtype="float32", always_2d=True)
    except _FILE_ERRORS as exc:
        raise AudioFileError(f"cannot read audio file {name!r}: {_reason(exc)}") from None
    if frames.size == 0:
        raise AudioFileError(f"cannot read audio file {name!r}: it contains no samples")
    try:
        return as_audio_array(frames.T), int(sample_rate)
    except InvalidAudioError as exc:
        raise InvalidAudioError(f"{name!r}: {exc}") from None


def iter_audio_blocks(path: str | os.PathLike, block_frames: int) -> Iterator[np.ndarray]:
    """Yield a long file as float32 blocks ``[C, block_frames]`` (the last one may be shorter).

    The path and block size are checked at once; the file's samples block by block, raising the same errors as
    :func:`read_audio`.
    """
    if isinstance(block_frames, bool) or not isinstance(block_frames, (int, np.integer)) or block_frames <= 0:
        raise ValueError(f"block_frames must be a positive integer, got {block_frames!r}")
    return _blocks(_check_readable(path), int(block_frames))


def _blocks(name: str, block_frames: int) -> Iterator[np.ndarray]:
    try:
        with sf.SoundFile(name) as handle:
            if handle.frames == 0:
                raise AudioFileError(f"cannot read audio file {name!r}: it contains no samples")
            for block in handle.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
                try:
                    samples = as_audio_array(block.T)
                except InvalidAudioError as exc:
                    raise InvalidAudioError(f"{name!r}: {exc}") from None
                yield samples
    except (AudioFileError, InvalidAudioError):
        raise
    except _FILE_ERRORS as exc:
        raise AudioFileError(f"cannot read audio file {name!r}: {_reason(exc)}") from None


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> None:
    """Write ``[C, T]`` audio; the format follows the extension (``.wav``, ``.flac``, ``.ogg``).

    ``subtype`` is a soundfile subtype (``FLOAT``, ``PCM_16``, ...). The default ``FLOAT`` is kept for WAV and
    becomes the format's best alternative elsewhere (``PCM_24`` for FLAC, ``VORBIS`` for Ogg). Integer subtypes clip
    to [-1, 1].

    Raises
    ------
    AudioFileError
        Unknown extension, a subtype the format lacks, or a failure to write.
    InvalidAudioError
        Invalid samples or sample rate.
    """
    name = os.fspath(path)
    samples = as_audio_array(audio)
    sample_rate = check_sample_rate(sample_rate)
    extension = os.path.splitext(name)[1].lower()
    if extension not in WRITE_FORMATS:
        raise AudioFileError(f"cannot write {name!r}: unknown extension, use one of {', '.join(WRITE_FORMATS)}")
    file_format, fallback_subtype = WRITE_FORMATS[extension]
    if subtype == "FLOAT" and not sf.check_format(file_format, subtype):
        subtype = fallback_subtype
    if not sf.check_format(file_format, subtype):
        supported = ", ".join(sorted(sf.available_subtypes(file_format)))
        raise AudioFileError(f"cannot write {name!r}: {file_format} has no subtype {subtype!r} (it has {supported})")
    folder = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(folder):
        raise AudioFileError(f"cannot write {name!r}: the folder {folder!r} does not exist")
    if subtype not in ("FLOAT", "DOUBLE"):
        samples = np.clip(samples, -1.0, 1.0)
    try:
        sf.write(name, samples.T, sample_rate, format=file_format, subtype=subtype)
    except _FILE_ERRORS as exc:
        raise AudioFileError(f"cannot write {name!r}: {_reason(exc)}") from None
