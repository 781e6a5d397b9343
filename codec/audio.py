"""Audio arrays and files: validation, resampling, channel conversion, reading and writing.

Everything here works on NumPy arrays ``[C, T]`` (channels first, float32 in [-1, 1]), with soxr for resampling and
soundfile (bundled libsndfile) for files. Every problem a user can cause raises :class:`InvalidAudioError` (the
samples) or :class:`AudioFileError` (the file), with a message that names the problem.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf
import soxr
from numpy.typing import ArrayLike

from codec.errors import AudioFileError, InvalidAudioError

__all__ = ["AudioFileInfo", "as_audio_array", "convert_channels", "iter_audio_blocks", "read_audio"]
__all__ += ["WRITE_FORMATS", "check_sample_rate", "read_audio_info", "resample", "write_audio"]

MAX_CHANNELS = 64
MAX_SAMPLE_RATE = 768_000
WRITE_FORMATS = {".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24"), ".ogg": ("OGG", "VORBIS")}
"""Extension -> (soundfile format, subtype used when the requested one does not exist in that format)."""
_FILE_ERRORS = (sf.SoundFileError, RuntimeError, OSError, ValueError, TypeError)


def _reason(exc: Exception) -> str:
    """libsndfile's own words ("Format not recognised") without soundfile's "Error opening <path>" prefix."""
    return str(getattr(exc, "error_string", None) or exc)


def _describe_non_finite(samples: np.ndarray) -> str | None:
    """None when all samples are finite, else a sentence counting NaN/Inf and locating the first one."""
    bad = ~np.isfinite(samples)
    if not bad.any():
        return None
    num_nan = int(np.isnan(samples).sum())
    num_inf = int(bad.sum()) - num_nan
    channel, sample = divmod(int(np.argmax(bad.reshape(-1))), samples.shape[1])
    where = f"first at channel {channel}, sample {sample}"
    return f"audio contains {num_nan} NaN and {num_inf} infinite sample(s) ({where}); all samples must be finite"


def _to_float32(samples: np.ndarray) -> np.ndarray:
    """Any real numeric array -> float32; integer PCM is scaled to [-1, 1)."""
    kind = samples.dtype.kind
    if kind == "f":
        message = _describe_non_finite(samples)
        if message:
            raise InvalidAudioError(message)
        if samples.dtype.itemsize > 4 and np.abs(samples).max() > np.finfo(np.float32).max:
            raise InvalidAudioError("audio has sample values too large for float32")
        return samples.astype(np.float32, copy=False)
    if kind in "iu":
        full_scale = 2.0 ** (8 * samples.dtype.itemsize - 1)
        offset = full_scale if kind == "u" else 0.0
        return ((samples.astype(np.float64) - offset) / full_scale).astype(np.float32)
    raise InvalidAudioError(f"audio must hold real numbers (float or integer PCM), got dtype {samples.dtype}")


def as_audio_array(audio: ArrayLike) -> np.ndarray:
    """Validate audio and return it as float32 C-contiguous ``[C, T]``.

    Parameters
    ----------
    audio : array_like
        ``[T]`` (mono) or ``[C, T]`` samples. The shape is taken as given: a ``[T, C]`` array is not transposed.
        Float samples are kept as they are; integer PCM (``int16``, ``uint8``, ...) is scaled to [-1, 1).

    Returns
    -------
    np.ndarray
        float32 ``[C, T]``; the input itself when it already is one.

    Raises
    ------
    InvalidAudioError
        Empty audio, a shape other than 1-D/2-D, more than 64 channels, NaN/Inf samples or a non-numeric dtype.
    """
    try:
        samples = np.asarray(audio)
    except (ValueError, TypeError) as exc:
        raise InvalidAudioError(f"audio is not a rectangular numeric array: {exc}") from None
    if samples.ndim not in (1, 2):
        raise InvalidAudioError(
            f"audio must be [T] or [C, T], got {samples.ndim} dimension(s) with shape {samples.shape}"
        )
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    num_channels, num_samples = samples.shape
    if num_channels == 0 or num_samples == 0:
        raise InvalidAudioError(f"audio is empty: shape [C, T] = {list(samples.shape)}")
    if num_channels > MAX_CHANNELS:
        raise InvalidAudioError(
            f"audio has {num_channels} channels, more than {MAX_CHANNELS}; arrays are read as [C, T], "
            f"so transpose a [T, C] array first"
        )
    if samples.dtype.kind not in "fiu":
        raise InvalidAudioError(f"audio must hold real numbers (float or integer PCM), got dtype {samples.dtype}")
    return np.ascontiguousarray(_to_float32(samples))


def check_sample_rate(sample_rate: Any, name: str = "sample rate") -> int:
    """``sample_rate`` as an ``int`` in Hz, checked to lie in 1..``MAX_SAMPLE_RATE``; ``name`` goes in the message.

    Raises
    ------
    InvalidAudioError
        Not an integer (``bool`` included) or out of range.
    """
    try:
        if isinstance(sample_rate, bool):
            raise TypeError
        rate = operator.index(sample_rate)
    except TypeError:
        raise InvalidAudioError(f"{name} must be an integer in Hz, got {sample_rate!r}") from None
    if not 1 <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(f"{name} must be between 1 Hz and {MAX_SAMPLE_RATE} Hz, got {rate} Hz")
    return rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``[C, T]`` audio with soxr at very high quality.

    Returns
    -------
    np.ndarray
        float32 ``[C, T']`` with ``T' = round(T * to_rate / from_rate)``; the validated input when the rates match.
    """
    from_rate = check_sample_rate(from_rate, "source sample rate")
    to_rate = check_sample_rate(to_rate, "target sample rate")
    samples = as_audio_array(audio)
    if from_rate == to_rate:
        return samples
    frames = np.ascontiguousarray(samples.T)
    resampled = soxr.resample(frames, from_rate, to_rate, quality="VHQ")
    return np.ascontiguousarray(resampled.reshape(-1, samples.shape[0]).T, dtype=np.float32)


def convert_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Convert ``[C, T]`` audio to ``channels`` channels.

    Mono becomes N channels by repetition, N channels become mono by averaging; equal counts pass through.

    Raises
    ------
    InvalidAudioError
        For any other conversion (e.g. 6 -> 2), or a channel count outside 1..64.
    """
    samples = as_audio_array(audio)
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudioError(f"channel count must be an integer in 1..{MAX_CHANNELS}, got {channels!r}")
    channels = int(channels)
    source = samples.shape[0]
    if source == channels:
        return samples
    if source == 1:
        return np.repeat(samples, channels, axis=0)
    if channels == 1:
        return samples.mean(axis=0, keepdims=True, dtype=np.float32)
    raise InvalidAudioError(
        f"cannot convert {source} channels to {channels}: supported are mono to any count, any count to mono, "
        f"and equal counts"
    )


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
