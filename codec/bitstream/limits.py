"""Sanity limits a reader applies to an untrusted ``.ecdc`` file before it loads a model or allocates for the body.

The header alone can claim anything (a 4 GB JSON, 2**40 samples, a model "name" that is a path); these checks turn
such claims into one :class:`BitstreamError` naming the problem, using only the header and the file's size.
"""

from __future__ import annotations

import io
import unicodedata
from typing import BinaryIO

from codec.errors import BitstreamError

__all__ = [
    "MAX_CHANNEL_DURATION_S",
    "MAX_DURATION_S",
    "MAX_MODEL_NAME_CHARS",
    "check_duration",
    "check_model_name",
    "remaining_bytes",
]

MAX_DURATION_S = 24 * 3600
"""Longest audio a file may declare, per channel."""

MAX_CHANNEL_DURATION_S = 2 * MAX_DURATION_S
"""Most audio a file may declare over all its channels (24 h of stereo, 6 h of 8 channels)."""

MAX_MODEL_NAME_CHARS = 255


def check_model_name(name: str) -> None:
    """Refuse a header model name that is not a plain name: empty, too long, a path, or with control characters.

    Readers resolve the name to a model on this machine; a path there would let a file pick any local file to load.
    """
    if not name or len(name) > MAX_MODEL_NAME_CHARS:
        raise BitstreamError(f"the header's model name must have 1..{MAX_MODEL_NAME_CHARS} characters, "
                             f"got {len(name)}")
    if any(sep in name for sep in ("/", "\\")) or name in (".", "..") or name.startswith("~"):
        raise BitstreamError(f"the header's model name {name!r} is a path, not a model name")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise BitstreamError(f"the header's model name {name!r} contains control or unassigned characters")


def check_duration(audio_length: int, channels: int, sample_rate: int) -> None:
    """Refuse a declared length beyond :data:`MAX_DURATION_S` (per channel) or :data:`MAX_CHANNEL_DURATION_S`.

    Parameters
    ----------
    audio_length : int
        ``al``: samples per channel, at ``sample_rate`` (Hz).
    channels : int
        Channels the file decodes to (the model's channels times the streams).
    """
    duration_s = audio_length / sample_rate
    if duration_s > MAX_DURATION_S:
        raise BitstreamError(f"the header declares {audio_length} samples ({duration_s / 3600:.3g} h at "
                             f"{sample_rate} Hz), more than the {MAX_DURATION_S // 3600} h an .ecdc file may hold")
    if duration_s * channels > MAX_CHANNEL_DURATION_S:
        raise BitstreamError(f"the header declares {duration_s / 3600:.3g} h of {channels} channels, more than "
                             f"{MAX_CHANNEL_DURATION_S // 3600} channel-hours an .ecdc file may hold")


def remaining_bytes(fo: BinaryIO) -> int | None:
    """Bytes between the current position and the end of ``fo``; None when it cannot seek (a pipe)."""
    try:
        if not fo.seekable():
            return None
        position = fo.tell()
        end = fo.seek(0, io.SEEK_END)
        fo.seek(position)
    except (OSError, AttributeError, ValueError):
        return None
    return max(0, end - position)

