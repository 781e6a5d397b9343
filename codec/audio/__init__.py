"""Audio arrays and files: validation, resampling, channel conversion, reading and writing.

Everything here works on NumPy arrays ``[C, T]`` (channels first, float32 in [-1, 1]), with soxr for resampling and
soundfile (bundled libsndfile) for files. Every problem a user can cause raises :class:`InvalidAudioError` (the
samples) or :class:`AudioFileError` (the file), with a message that names the problem.

:mod:`codec.audio.arrays` holds the array functions, :mod:`codec.audio.files` the file functions; this package is
the public entry point and re-exports both.
"""

from __future__ import annotations

from codec.audio.arrays import (
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    as_audio_array,
    check_sample_rate,
    convert_channels,
    resample,
)
from codec.audio.files import (
    WRITE_FORMATS,
    AudioFileInfo,
    iter_audio_blocks,
    read_audio,
    read_audio_info,
    write_audio,
)

__all__ = ["AudioFileInfo", "as_audio_array", "convert_channels", "iter_audio_blocks", "read_audio"]
__all__ += ["WRITE_FORMATS", "check_sample_rate", "read_audio_info", "resample", "write_audio"]
__all__ += ["MAX_CHANNELS", "MAX_SAMPLE_RATE"]
