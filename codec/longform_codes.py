"""Codes for :mod:`codec.longform`: audio blocks to codes and back, and codes to and from an ``.ecdc`` body.

Causal models go through the streaming engine a block of :data:`STREAM_BLOCK_FRAMES` frames at a time, segmented
ones segment by segment; LM entropy coding (when an LM is given) codes one segment's codes at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from codec.api import Codec
from codec.bitstream import (
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    packed_size,
    read_segment,
    write_segment,
)
from codec.ecdc import read_lm_segment
from codec.model import EncodedSegment
from codec.streaming import SegmentDecoder, SegmentEncoder, StreamingDecoder, StreamingEncoder
from codec.streaming.ecdc_io import iter_packed_codes

if TYPE_CHECKING:
    from codec.lm.model import LMModel

STREAM_BLOCK_FRAMES = 75


def encode_blocks(codec: Codec, blocks: Iterator[np.ndarray], bitrate_kbps: float,
                  on_block: Callable[[], None]) -> Iterator[np.ndarray | EncodedSegment]:
    """Codes ``[S, K, f]`` (causal) or :class:`EncodedSegment` (segmented) as the blocks complete them."""
    model = codec.model
    if model.config.segment_length is not None:
        seg_encoder = SegmentEncoder(model, bitrate_kbps)
        for block in blocks:
            yield from seg_encoder.push(block)
            on_block()
        yield from seg_encoder.flush()
        return
    encoder = StreamingEncoder(model, bitrate_kbps, block_frames=STREAM_BLOCK_FRAMES)
    for block in blocks:
        yield encoder.push(block[None] if block.ndim == 2 else block)
        on_block()
    yield encoder.flush()


def lm_encode(fo: BinaryIO, codes: np.ndarray, lm: LMModel) -> None:
    """Entropy-code one stream's codes ``[K, f]`` with ``lm`` into ``fo``."""
    from codec.lm.segment import encode_segment_codes

    encode_segment_codes(fo, codes, lm)


def write_encoded_segment(fo: BinaryIO, segment: EncodedSegment, lm: LMModel | None) -> None:
    """Write a segment's streams in turn: packed codes (and scale), or LM-coded when ``lm`` is given."""
    import struct

    codes = segment.codes.numpy()
    scales = None if segment.scale is None else segment.scale.reshape(-1).numpy().astype(np.float32)
    for stream in range(codes.shape[0]):
        scale = None if scales is None else float(scales[stream])
        if lm is None:
            write_segment(fo, codes[stream], scale)
        else:
            if scale is not None:
                fo.write(struct.pack("!f", scale))
            lm_encode(fo, codes[stream], lm)


def decode_stream(codec: Codec, items: Iterator[np.ndarray | EncodedSegment]) -> Iterator[np.ndarray]:
    """Codes ``[S, K, f]`` or segments in order → model-rate audio ``[S, M, n]`` as it becomes final."""
    model = codec.model
    if model.config.segment_stride is not None:
        seg_decoder = SegmentDecoder(model)
        for item in items:
            assert isinstance(item, EncodedSegment)
            if (audio := seg_decoder.push(item)) is not None:
                yield audio
        if (audio := seg_decoder.flush()) is not None:
            yield audio
        return
    decoder = StreamingDecoder(model, block_frames=STREAM_BLOCK_FRAMES)
    for item in items:
        assert isinstance(item, np.ndarray)
        yield decoder.push(item)
    yield decoder.flush()


def read_items(fo: BinaryIO, path: Path, codec: Codec, header: EcdcHeader, body_start: int,
               lm: LMModel | None) -> Iterator[np.ndarray | EncodedSegment]:
    """The file's codes in order: ``[S, K, f]`` blocks (one segment) or whole segments (segmented models)."""
    import torch

    config = codec.model.config
    k, streams = header.num_codebooks, header.num_streams
    if config.segment_length is not None:
        for length in iter_segment_lengths(header.audio_length, config.segment_length, config.segment_stride):
            frames = frames_for_length(length, config.hop_length)
            parts = [_read_one(fo, k, frames, config.normalize, lm) for _ in range(streams)]
            codes = torch.from_numpy(np.stack([c for c, _ in parts]).astype(np.int64))
            scales = torch.tensor([[s] for _, s in parts], dtype=torch.float32) if config.normalize else None
            yield EncodedSegment(codes, scales)
        return
    frames = frames_for_length(header.audio_length, config.hop_length)
    if lm is not None:
        from codec.lm.segment import decode_segment_codes

        yield np.stack([decode_segment_codes(fo, lm, k, frames) for _ in range(streams)])
        return
    handles = [open(path, "rb") for _ in range(streams)]
    try:
        for s, handle in enumerate(handles):
            handle.seek(body_start + s * packed_size(k, frames))
        readers = [iter_packed_codes(h, k, frames) for h in handles]
        for blocks in zip(*readers, strict=True):
            yield np.stack(blocks)
    finally:
        for handle in handles:
            handle.close()


def _read_one(fo: BinaryIO, k: int, frames: int, has_scale: bool, lm: LMModel | None) -> tuple[np.ndarray, float]:
    if lm is None:
        codes, scale = read_segment(fo, k, frames, has_scale)
        return codes, scale or 0.0
    codes, scale = read_lm_segment(fo, lm, k, frames, has_scale)
    return codes, scale or 0.0
