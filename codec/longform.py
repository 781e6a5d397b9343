"""Files of any length in bounded memory: read, code and write block by block.

Causal unsegmented models (``encodec_24khz``) run through the streaming engine (:mod:`codec.streaming`),
segmented ones (``encodec_48khz``) segment by segment. Memory then depends on the block size, not on the file's
length, except for LM entropy coding of a causal model, whose one segment's codes (about 1/40 of the float32
audio at 6 kbps) are held for the coder. Outputs are written to a temporary file next to the target and renamed
on success, so a failure never leaves a partial file.

Results equal the one-shot :class:`~codec.api.Codec` path: codes bit for bit (with one torch thread and inputs at
the model's sample rate; see docs/benchmarks.md for the exact conditions), audio bit for bit for segmented
models and to float rounding (~1e-7) for causal ones, whose one-shot decoder uses other kernels.

The public functions are here; :mod:`codec.longform_blocks` reads and writes the audio by blocks and
:mod:`codec.longform_codes` turns blocks into codes and back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from codec.api import Codec, ProgressCallback, from_streams, to_streams
from codec.audio import read_audio_info
from codec.bitstream import EcdcHeader, write_header
from codec.ecdc import read_checked_header
from codec.errors import AudioFileError, BitstreamError
from codec.longform_blocks import AudioWriter, atomic_output, model_rate_blocks, resampled, ticker, trimmed
from codec.longform_codes import decode_stream, encode_blocks, lm_encode, read_items, write_encoded_segment
from codec.model import EncodedSegment
from codec.streaming.ecdc_io import CodeSpool

if TYPE_CHECKING:
    from codec.lm.model import LMModel

__all__ = ["LongformResult", "decode_file", "encode_file", "reconstruct_file"]

BLOCK_S = 10.0


@dataclass(frozen=True)
class LongformResult:
    """What was coded: samples per channel at the model's rate, codebooks and streams."""

    audio_length: int
    num_codebooks: int
    num_streams: int
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return self.audio_length / self.sample_rate


def encode_file(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], codec: Codec,
                bitrate_kbps: float, progress: ProgressCallback | None = None, lm: LMModel | None = None,
                block_s: float = BLOCK_S) -> LongformResult:
    """Audio file → ``.ecdc`` file, reading ``block_s`` seconds at a time (same bytes as encode + write_ecdc)."""
    blocks, length, _, _, total = model_rate_blocks(codec, Path(in_path), block_s)
    num_codebooks = codec.model.quantizer.codebooks_for(bitrate_kbps)
    with tempfile.TemporaryFile() as body, atomic_output(Path(out_path)) as tmp:
        spools: list[CodeSpool] = []
        streams = 0
        try:
            for item in encode_blocks(codec, blocks, bitrate_kbps, ticker(progress, total)):
                if isinstance(item, EncodedSegment):
                    streams = item.codes.shape[0]
                    write_encoded_segment(body, item, lm)
                    continue
                streams = item.shape[0]
                spools = spools or [CodeSpool(num_codebooks) for _ in range(streams)]
                for spool, codes in zip(spools, item, strict=True):
                    spool.append(codes)
            for spool in spools:
                if lm is None:
                    spool.write_packed(body)
                else:
                    lm_encode(body, spool.all_codes(), lm)
        finally:
            for spool in spools:
                spool.close()
        if length == 0 or streams == 0:
            raise AudioFileError(f"cannot encode {os.fspath(in_path)!r}: it contains no samples")
        with open(tmp, "wb") as fo:
            write_header(fo, EcdcHeader(codec.name, length, num_codebooks, lm is not None, num_streams=streams))
            body.seek(0)
            while chunk := body.read(1 << 20):
                fo.write(chunk)
    return LongformResult(length, num_codebooks, streams, codec.sample_rate)


def decode_file(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str],
                codec_for: Callable[[str], Codec], progress: ProgressCallback | None = None,
                lm_for: Callable[[str], LMModel | None] | None = None, subtype: str = "FLOAT") -> LongformResult:
    """``.ecdc`` file → audio file at the model's rate, a block of frames (or a segment) at a time."""
    path = Path(in_path)
    with open(path, "rb") as fo:
        header, codec, lm, _ = read_checked_header(fo, codec_for, lm_for)
        config = codec.model.config
        if header.audio_length == 0:
            raise BitstreamError("file holds no audio (length 0)")
        channels = config.channels * header.num_streams
        with atomic_output(Path(out_path)) as tmp:
            writer = AudioWriter(tmp, Path(out_path), config.sample_rate, channels, subtype)
            try:
                done = 0
                audio_chunks = decode_stream(codec, read_items(fo, path, codec, header, fo.tell(), lm))
                for chunk in trimmed(audio_chunks, header.audio_length):
                    writer.write(from_streams(chunk, channels))
                    done += chunk.shape[-1]
                    if progress is not None:
                        progress(done, header.audio_length)  # in samples: decoding advances per block of frames
            finally:
                writer.close()
    return LongformResult(header.audio_length, header.num_codebooks, header.num_streams, config.sample_rate)


def reconstruct_file(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], codec: Codec,
                     bitrate_kbps: float, progress: ProgressCallback | None = None, subtype: str = "FLOAT",
                     block_s: float = BLOCK_S) -> LongformResult:
    """Audio file → coded and decoded audio file with the input's rate, channels and length, block by block."""
    blocks, length, in_rate, in_channels, total = model_rate_blocks(codec, Path(in_path), block_s)
    info = read_audio_info(in_path)
    num_codebooks = codec.model.quantizer.codebooks_for(bitrate_kbps)
    codes = encode_blocks(codec, blocks, bitrate_kbps, ticker(progress, total))
    model_audio = trimmed(decode_stream(codec, codes), length)
    restored = (from_streams(a, in_channels) for a in model_audio)
    out_audio = trimmed(resampled(restored, codec.sample_rate, in_rate, in_channels, info.num_frames),
                        info.num_frames)
    with atomic_output(Path(out_path)) as tmp:
        writer = AudioWriter(tmp, Path(out_path), in_rate, in_channels, subtype)
        try:
            for chunk in out_audio:
                writer.write(chunk)
        finally:
            writer.close()
    streams = to_streams(np.zeros((in_channels, 1), np.float32), codec.channels).shape[0]
    return LongformResult(length, num_codebooks, streams, codec.sample_rate)
