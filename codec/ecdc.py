"""``.ecdc`` files from :class:`~codec.api.EncodedAudio` and back (the container without the entropy LM).

Files from a model coding one stream are byte-identical to encodec 0.1.1's ``compress(..., use_lm=False)`` when
the official weights are used (the header then names the official model). When a mono model codes several
channels as separate streams, the header gains a ``streams`` key and each segment holds every stream in turn;
0.1.1 reads such a file as its first stream.
"""

from __future__ import annotations

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


def write_ecdc(fo: BinaryIO, encoded: EncodedAudio) -> None:
    """Write ``encoded`` as an ``.ecdc`` stream (header, then each segment's scales and packed codes)."""
    if encoded.bits_per_code != 10:
        raise BitstreamError(f".ecdc stores 10-bit codes; this model uses {encoded.bits_per_code} bits")
    header = EcdcHeader(encoded.model_name, encoded.audio_length, encoded.num_codebooks, False,
                        num_streams=encoded.num_streams)
    write_header(fo, header)
    for segment in encoded.segments:
        for stream in range(segment.codes.shape[0]):
            scale = None if segment.scales is None else float(segment.scales[stream])
            write_segment(fo, segment.codes[stream], scale)


def read_ecdc(fo: BinaryIO, codec_for: Callable[[str], Codec]) -> EncodedAudio:
    """Read an ``.ecdc`` stream; ``codec_for(model_name)`` supplies the codec whose layout it follows.

    Raises :class:`BitstreamError` for LM-coded files (not supported yet), a model that cannot have written the
    file, or any truncated or corrupt content.
    """
    from codec.api import CodedSegment, EncodedAudio

    header = read_header(fo)
    if header.use_lm:
        raise BitstreamError("this file is entropy-coded with the language model, which this version cannot decode")
    codec = codec_for(header.model_name)
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
            stream_codes, scale = read_segment(fo, header.num_codebooks, frames, config.normalize)
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
