"""``.ecdc`` files from :class:`~codec.api.EncodedAudio` and back, with or without the entropy-coding LM.

Files from a model coding one stream are byte-identical to encodec 0.1.1's ``compress(..., use_lm=...)`` when
the official weights (and, with ``lm: true``, the official LM) are used: the header then names the official model.
When a mono model codes several channels as separate streams, the header gains a ``streams`` key and each segment
holds every stream in turn (each LM-coded stream with its own coder); 0.1.1 reads such a file as its first stream.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from codec.bitstream.container import (
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    read_header,
    read_segment,
    write_header,
    write_segment,
)
from codec.errors import BitstreamError

if TYPE_CHECKING:
    from codec.api import Codec, EncodedAudio
    from codec.lm.model import LMModel

_SCALE_STRUCT = struct.Struct("!f")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NEEDS_LM = ("this file is entropy-coded with the {} language model; decoding it needs that LM checkpoint "
             "(encodec_lm_*.th, e.g. via --lm-model)")


def write_ecdc(fo: BinaryIO, encoded: EncodedAudio, lm: LMModel | None = None) -> None:
    """Write ``encoded`` as an ``.ecdc`` stream (header, then each segment's scales and codes).

    Parameters
    ----------
    lm : LMModel, optional
        With an LM the codes are arithmetic-coded (``lm: true``): per segment and stream, the scale (if any),
        then the codes with a fresh coder and LM state. Without one they are packed at 10 bits.
    """
    if encoded.bits_per_code != 10:
        raise BitstreamError(f".ecdc stores 10-bit codes; this model uses {encoded.bits_per_code} bits")
    header = EcdcHeader(encoded.model_name, encoded.audio_length, encoded.num_codebooks, lm is not None,
                        num_streams=encoded.num_streams)
    write_header(fo, header)
    for segment in encoded.segments:
        for stream in range(segment.codes.shape[0]):
            scale = None if segment.scales is None else float(segment.scales[stream])
            if lm is None:
                write_segment(fo, segment.codes[stream], scale)
                continue
            from codec.lm.segment import encode_segment_codes

            if scale is not None:
                # write_segment's checks on the scale, without its packed codes.
                if not math.isfinite(scale) or not 0 < scale <= _FLOAT32_MAX:
                    raise BitstreamError(f"segment scale must be a finite positive float32, got {scale}")
                fo.write(_SCALE_STRUCT.pack(scale))
            encode_segment_codes(fo, segment.codes[stream], lm)


def read_ecdc(fo: BinaryIO, codec_for: Callable[[str], Codec],
              lm_for: Callable[[str], LMModel | None] | None = None) -> EncodedAudio:
    """Read an ``.ecdc`` stream; ``codec_for(model_name)`` supplies the codec whose layout it follows.

    ``lm_for(model_name)`` supplies the LM for files with ``lm: true`` (None when it has none). Raises
    :class:`BitstreamError` for an LM-coded file without an LM, a model that cannot have written the file, or any
    truncated or corrupt content.
    """
    from codec.api import CodedSegment, EncodedAudio

    header = read_header(fo)
    if header.use_lm and lm_for is None:
        raise BitstreamError(_NEEDS_LM.format(header.model_name))
    codec = codec_for(header.model_name)
    lm = None
    if header.use_lm:
        lm = lm_for(header.model_name) if lm_for is not None else None
        if lm is None:
            raise BitstreamError(_NEEDS_LM.format(header.model_name))
    config = codec.model.config
    if header.num_codebooks > config.quantizer.n_q:
        raise BitstreamError(f"file uses {header.num_codebooks} codebooks; {codec.name} has {config.quantizer.n_q}")
    if header.audio_length == 0:
        raise BitstreamError("file holds no audio (length 0)")
    segments = []
    for length in iter_segment_lengths(header.audio_length, config.segment_length, config.segment_stride):
        frames = frames_for_length(length, config.hop_length)
        codes, scales = [], []
        for _ in range(header.num_streams):
            if lm is None:
                stream_codes, scale = read_segment(fo, header.num_codebooks, frames, config.normalize)
            else:
                stream_codes, scale = _read_lm_segment(fo, lm, header.num_codebooks, frames, config.normalize)
            codes.append(stream_codes)
            scales.append(scale)
        scale_array = np.array(scales, dtype=np.float32) if config.normalize else None
        segments.append(CodedSegment(np.stack(codes).astype(np.int64), scale_array))
    channels = config.channels * header.num_streams
    return EncodedAudio(
        model_name=header.model_name, sample_rate=config.sample_rate, audio_length=header.audio_length,
        num_codebooks=header.num_codebooks, bits_per_code=10, segments=tuple(segments),
        input_sample_rate=config.sample_rate, input_channels=channels, input_length=header.audio_length,
    )


def _read_lm_segment(fo: BinaryIO, lm: LMModel, num_codebooks: int, num_frames: int,
                     has_scale: bool) -> tuple[np.ndarray, float | None]:
    """One LM-coded segment: the scale (if the model normalises), then ``[K, T]`` codes."""
    from codec.lm.segment import decode_segment_codes

    scale = None
    if has_scale:
        data = fo.read(_SCALE_STRUCT.size)
        if len(data) != _SCALE_STRUCT.size:
            raise BitstreamError("file is truncated: a segment scale is missing")
        (scale,) = _SCALE_STRUCT.unpack(data)
        if not math.isfinite(scale) or scale <= 0:
            raise BitstreamError(f"segment scale must be finite and positive, got {scale}")
    return decode_segment_codes(fo, lm, num_codebooks, num_frames), scale
