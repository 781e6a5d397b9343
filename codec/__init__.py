"""EarBench's codec library: an EnCodec-compatible neural audio codec (no Qt, no audio devices).

>>> codec = load_codec("encodec_24khz")            # doctest: +SKIP
>>> audio = codec.reconstruct(samples, 44_100, 6.0)  # doctest: +SKIP
"""

from codec.api import Codec, EncodedAudio, available_bitrates, load_codec
from codec.catalog import ModelInfo, list_models
from codec.checkpoint import find_official_checkpoints
from codec.errors import (
    AudioFileError,
    BitstreamError,
    CheckpointError,
    CodecError,
    InvalidAudioError,
    ModelNotFoundError,
    UnknownBitrateError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioFileError",
    "BitstreamError",
    "CheckpointError",
    "Codec",
    "CodecError",
    "EncodedAudio",
    "InvalidAudioError",
    "ModelInfo",
    "ModelNotFoundError",
    "UnknownBitrateError",
    "available_bitrates",
    "find_official_checkpoints",
    "list_models",
    "load_codec",
]
