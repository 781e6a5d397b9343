"""Exceptions raised by the codec library.

Every error a user can cause (bad audio, unknown bitrate, unreadable file, hostile bitstream or checkpoint) is a
subclass of :class:`CodecError`, so callers such as the app can catch one type and show its message as it is.
"""

from __future__ import annotations


class CodecError(Exception):
    """Base class for errors caused by input to the codec (not by a bug in it)."""


class InvalidAudioError(CodecError, ValueError):
    """Audio that cannot be coded: empty, wrong shape, NaN/Inf samples, unsupported sample rate or channel count."""


class UnknownBitrateError(CodecError, ValueError):
    """A bitrate the model does not offer; the message lists the ones it does."""


class ModelNotFoundError(CodecError, FileNotFoundError):
    """A model name or path that resolves to no checkpoint on this machine."""


class CheckpointError(CodecError, ValueError):
    """A checkpoint file that is corrupt, hostile, or does not match the architecture."""


class BitstreamError(CodecError, ValueError):
    """An ``.ecdc`` file that is truncated, corrupt or hostile."""


class AudioFileError(CodecError, OSError):
    """An audio file that cannot be read or written."""
