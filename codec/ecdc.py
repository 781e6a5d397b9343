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
    CODE_BITS,
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    read_header,
    read_segment,
    write_header,
    write_segment,
)
from codec.bitstream.limits import check_duration, check_model_name, remaining_bytes
from codec.bitstream.packing import packed_size
from codec.errors import BitstreamError

if TYPE_CHECKING:
    from codec.api import Codec, EncodedAudio
    from codec.config import ModelConfig
    from codec.lm.model import LMModel

_SCALE_STRUCT = struct.Struct("!f")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NEEDS_LM = ("this file is entropy-coded with the {} language model; decoding it needs that LM checkpoint "
             "(encodec_lm_*.th, e.g. via --lm-model)")
_TRAILING = ("file has {} unexpected bytes after its last segment (corrupt, appended to, or a header whose length or "
             "codebook count does not match the body)")


def write_ecdc(fo: BinaryIO, encoded: EncodedAudio, lm: LMModel | None = None) -> None:
    """Write ``encoded`` as an ``.ecdc`` stream (header, then each segment's scales and codes).

    Parameters
    ----------
    lm : LMModel, optional
        With an LM the codes are arithmetic-coded (``lm: true``): per segment and stream, the scale (if any),
        then the codes with a fresh coder and LM state. Without one they are packed at 10 bits.
    """
    if encoded.bits_per_code != CODE_BITS:
        raise BitstreamError(f".ecdc stores 10-bit codes; this model uses {encoded.bits_per_code} bits")
    check_model_name(encoded.model_name)  # never write a file that read_ecdc would refuse
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

    ``lm_for(model_name)`` supplies the LM for files with ``lm: true`` (None when it has none). The file is treated
    as hostile: the header's model name must be a plain name (not a path) before ``codec_for`` sees it; before any
    body byte is read, the length must be at most 24 h (:mod:`codec.bitstream.limits`) and, when ``fo`` can seek, the
    body must have the exact size the header implies (without the LM) or at least the bytes its codes need (with it),
    so the LM's work is bounded by the file's size. Bytes after the last segment are an error: version 0 has no
    checksum, and a body longer than its header says is the one sign of a corrupt or concatenated file that remains.

    Raises :class:`BitstreamError` for an LM-coded file without an LM, a model that cannot have written the file, or any
    truncated, oversized or corrupt content; ``codec_for`` and ``lm_for`` may raise their own :class:`CodecError`.
    """
    from codec.api import CodedSegment, EncodedAudio

    header, codec, lm, lengths = read_checked_header(fo, codec_for, lm_for)
    config = codec.model.config
    segments = []
    for length in lengths:
        frames = frames_for_length(length, config.hop_length)
        codes, scales = [], []
        for _ in range(header.num_streams):
            if lm is None:
                stream_codes, scale = read_segment(fo, header.num_codebooks, frames, config.normalize)
            else:
                stream_codes, scale = read_lm_segment(fo, lm, header.num_codebooks, frames, config.normalize)
            codes.append(stream_codes)
            scales.append(scale)
        scale_array = np.array(scales, dtype=np.float32) if config.normalize else None
        segments.append(CodedSegment(np.stack(codes).astype(np.int64), scale_array))
    _check_no_trailing_data(fo)
    channels = config.channels * header.num_streams
    return EncodedAudio(
        model_name=header.model_name, sample_rate=config.sample_rate, audio_length=header.audio_length,
        num_codebooks=header.num_codebooks, bits_per_code=CODE_BITS, segments=tuple(segments),
        input_sample_rate=config.sample_rate, input_channels=channels, input_length=header.audio_length,
    )


def read_checked_header(fo: BinaryIO, codec_for: Callable[[str], Codec],
                        lm_for: Callable[[str], LMModel | None] | None = None
                        ) -> tuple[EcdcHeader, Codec, LMModel | None, list[int]]:
    """The header of a hostile stream, checked as :func:`read_ecdc` describes before any body byte is read.

    Returns (header, codec, LM or None, segment lengths in samples); ``fo`` is left at the start of the body.
    """
    header = read_header(fo)
    check_model_name(header.model_name)
    if header.use_lm and lm_for is None:
        raise BitstreamError(_NEEDS_LM.format(header.model_name))
    codec = codec_for(header.model_name)
    config = codec.model.config
    _check_layout(header, codec.name, config)
    lm = None
    if header.use_lm:
        lm = lm_for(header.model_name) if lm_for is not None else None
        if lm is None:
            raise BitstreamError(_NEEDS_LM.format(header.model_name))
    lengths = list(iter_segment_lengths(header.audio_length, config.segment_length, config.segment_stride))
    _check_body_size(fo, header, lengths, config, None if lm is None else lm.card)
    return header, codec, lm, lengths


def _layout(config: ModelConfig) -> str:
    segments = "whole input" if config.segment_length is None else f"{config.segment_length}-sample segments"
    return (f"{config.sample_rate} Hz, {config.channels} channel(s), hop {config.hop_length}, {segments}"
            f"{', scaled' if config.normalize else ''}")


def _check_layout(header: EcdcHeader, codec_name: str, config: ModelConfig) -> None:
    """The codec must lay segments out as the file's model did (known for the official names), and fit the header."""
    from codec.config import PRESETS

    if header.model_name in PRESETS and _layout(PRESETS[header.model_name]()) != _layout(config):
        raise BitstreamError(f"the file was written by {header.model_name} ({_layout(PRESETS[header.model_name]())}); "
                             f"{codec_name} ({_layout(config)}) cannot decode it")
    if header.num_codebooks > config.quantizer.n_q:
        raise BitstreamError(f"file uses {header.num_codebooks} codebooks; {codec_name} has {config.quantizer.n_q}")
    if header.audio_length == 0:
        raise BitstreamError("file holds no audio (length 0)")
    from codec.audio import MAX_CHANNELS

    if config.channels * header.num_streams > MAX_CHANNELS:
        raise BitstreamError(f"file has {header.num_streams} streams of {config.channels} channel(s), more than the "
                             f"{MAX_CHANNELS} channels audio may have")
    check_duration(header.audio_length, config.channels * header.num_streams, config.sample_rate)


def _check_body_size(fo: BinaryIO, header: EcdcHeader, lengths: list[int], config: ModelConfig,
                     lm_card: int | None) -> None:
    """Compare the bytes left in ``fo`` with what the header implies, before reading or decoding any of them.

    Without the LM the body's size is exact. With it, :func:`~codec.lm.coding.min_coded_bytes` bounds how many codes
    the bytes could hold, so a small file cannot declare hours of LM work. Skipped when ``fo`` cannot seek (the
    readers then still stop at the real end of the data).
    """
    remaining = remaining_bytes(fo)
    if remaining is None:
        return
    scale_bytes = _SCALE_STRUCT.size if config.normalize else 0
    frames = [frames_for_length(length, config.hop_length) for length in lengths]
    if lm_card is None:
        needed = header.num_streams * sum(scale_bytes + packed_size(header.num_codebooks, t, CODE_BITS) for t in frames)
        if remaining < needed:
            raise BitstreamError(f"file is truncated: the header declares {header.audio_length} samples, whose codes "
                                 f"need {needed} bytes, but only {remaining} follow the header")
        if remaining > needed:
            raise BitstreamError(_TRAILING.format(remaining - needed))
        return
    from codec.lm.coding import min_coded_bytes

    needed = header.num_streams * sum(
        scale_bytes + min_coded_bytes(header.num_codebooks * t, lm_card) for t in frames
    )
    if remaining < needed:
        raise BitstreamError(f"file is truncated: the header declares {header.audio_length} samples, whose LM-coded "
                             f"codes need at least {needed} bytes, but only {remaining} follow the header")


def _check_no_trailing_data(fo: BinaryIO) -> None:
    extra = fo.read(1)
    if extra:
        remaining = remaining_bytes(fo)
        raise BitstreamError(_TRAILING.format("some" if remaining is None else remaining + 1))


def read_lm_segment(fo: BinaryIO, lm: LMModel, num_codebooks: int, num_frames: int,
                    has_scale: bool) -> tuple[np.ndarray, float | None]:
    """Read one LM-coded segment: the scale (if ``has_scale``), then the ``[K, T]`` codes coded with ``lm``.

    Returns the ``[num_codebooks, num_frames]`` codes and the scale (``None`` without ``has_scale``); raises
    :class:`~codec.errors.BitstreamError` on a truncated or corrupt segment.
    """
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
