"""Audio by blocks for :mod:`codec.longform`: input blocks at the model's rate, trimming, output files.

Reading resamples with a soxr stream, writing goes through an :class:`AudioWriter` to a temporary file that
:func:`atomic_output` renames onto the target on success, so a failure never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from codec.api import Codec, ProgressCallback, to_streams
from codec.audio import WRITE_FORMATS, iter_audio_blocks, read_audio_info
from codec.errors import AudioFileError


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed onto it on success and removed on failure."""
    path = Path(path)
    if not path.parent.is_dir():
        raise AudioFileError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the output gets the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def model_rate_blocks(codec: Codec, path: Path, block_s: float) -> tuple[Iterator[np.ndarray], int, int, int, int]:
    """Blocks ``[S, M, n]`` at the model's rate → (blocks, model length, input rate, input channels, block count)."""
    info = read_audio_info(path)
    block = max(1, int(block_s * info.sample_rate))
    total_blocks = max(1, math.ceil(info.num_frames / block))
    length = round(info.num_frames * codec.sample_rate / info.sample_rate)
    blocks = resampled(iter_audio_blocks(path, block), info.sample_rate, codec.sample_rate, info.channels, length)
    streams = (to_streams(b, codec.channels) for b in blocks)
    return streams, length, info.sample_rate, info.channels, total_blocks


def resampled(blocks: Iterator[np.ndarray], from_rate: int, to_rate: int, channels: int,
              length: int) -> Iterator[np.ndarray]:
    """``[C, n]`` blocks resampled with a soxr stream, cut or zero-padded to ``length`` samples in all."""
    if from_rate == to_rate:
        yield from blocks
        return
    stream = soxr.ResampleStream(from_rate, to_rate, channels, dtype="float32", quality="VHQ")
    done = 0
    blocks = iter(blocks)
    block = next(blocks, None)
    while block is not None:
        following = next(blocks, None)
        out = stream.resample_chunk(np.ascontiguousarray(block.T), last=following is None).T
        out = out[:, : max(0, length - done)]
        done += out.shape[1]
        yield np.ascontiguousarray(out, dtype=np.float32)
        block = following
    if done < length:
        yield np.zeros((channels, length - done), dtype=np.float32)


def ticker(progress: ProgressCallback | None, total: int) -> Callable[[], None]:
    """A callback to call once per block; it reports ``(blocks done, total)`` to ``progress``."""
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0], total), total)

    return tick


class AudioWriter:
    """Blocks ``[C, n]`` into a sound file; the format follows the extension, as :func:`codec.audio.write_audio`."""

    def __init__(self, path: Path, target: Path, sample_rate: int, channels: int, subtype: str) -> None:
        extension = target.suffix.lower()
        if extension not in WRITE_FORMATS:
            known = ", ".join(WRITE_FORMATS)
            raise AudioFileError(f"cannot write {str(target)!r}: unknown extension, use one of {known}")
        file_format, fallback = WRITE_FORMATS[extension]
        if subtype == "FLOAT" and not sf.check_format(file_format, subtype):
            subtype = fallback
        if not sf.check_format(file_format, subtype):
            raise AudioFileError(f"cannot write {str(target)!r}: {file_format} has no subtype {subtype!r}")
        self.clip = subtype not in ("FLOAT", "DOUBLE")
        self.file = sf.SoundFile(path, "w", sample_rate, channels, subtype, format=file_format)

    def write(self, audio: np.ndarray) -> None:
        if audio.shape[-1]:
            self.file.write(np.clip(audio, -1.0, 1.0).T if self.clip else audio.T)

    def close(self) -> None:
        self.file.close()


def trimmed(chunks: Iterator[np.ndarray], length: int) -> Iterator[np.ndarray]:
    """Audio chunks ``[..., n]`` cut to ``length`` samples in all."""
    done = 0
    for chunk in chunks:
        chunk = chunk[..., : max(0, length - done)]
        done += chunk.shape[-1]
        if chunk.shape[-1]:
            yield chunk
