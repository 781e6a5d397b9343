"""Files of any length in bounded memory: read, code and write block by block.

Causal unsegmented models (``encodec_24khz``) run through the streaming engine (:mod:`codec.streaming`),
segmented ones (``encodec_48khz``) segment by segment. Memory then depends on the block size, not on the file's
length, except for LM entropy coding of a causal model, whose one segment's codes (about 1/40 of the float32
audio at 6 kbps) are held for the coder. Outputs are written to a temporary file next to the target and renamed
on success, so a failure never leaves a partial file.

Results equal the one-shot :class:`~codec.api.Codec` path: codes bit for bit (with one torch thread and inputs at
the model's sample rate; see docs/benchmarks.md for the exact conditions), audio bit for bit for segmented
models and to float rounding (~1e-7) for causal ones, whose one-shot decoder uses other kernels.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import soundfile as sf
import soxr

from codec.api import Codec, ProgressCallback, from_streams, to_streams
from codec.audio import WRITE_FORMATS, iter_audio_blocks, read_audio_info
from codec.bitstream import (
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    packed_size,
    read_segment,
    write_header,
    write_segment,
)
from codec.ecdc import read_checked_header, read_lm_segment
from codec.errors import AudioFileError, BitstreamError
from codec.model import EncodedSegment
from codec.streaming import SegmentDecoder, SegmentEncoder, StreamingDecoder, StreamingEncoder
from codec.streaming.ecdc_io import CodeSpool, iter_packed_codes

if TYPE_CHECKING:
    from codec.lm.model import LMModel

__all__ = ["LongformResult", "decode_file", "encode_file", "reconstruct_file"]

BLOCK_S = 10.0
STREAM_BLOCK_FRAMES = 75


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


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[Path]:
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


def _model_rate_blocks(codec: Codec, path: Path, block_s: float) -> tuple[Iterator[np.ndarray], int, int, int, int]:
    """Blocks ``[S, M, n]`` at the model's rate → (blocks, model length, input rate, input channels, block count)."""
    info = read_audio_info(path)
    block = max(1, int(block_s * info.sample_rate))
    total_blocks = max(1, math.ceil(info.num_frames / block))
    length = round(info.num_frames * codec.sample_rate / info.sample_rate)
    blocks = _resampled(iter_audio_blocks(path, block), info.sample_rate, codec.sample_rate, info.channels, length)
    streams = (to_streams(b, codec.channels) for b in blocks)
    return streams, length, info.sample_rate, info.channels, total_blocks


def _resampled(blocks: Iterator[np.ndarray], from_rate: int, to_rate: int, channels: int,
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


def _encode_blocks(codec: Codec, blocks: Iterator[np.ndarray], bitrate_kbps: float,
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


def _ticker(progress: ProgressCallback | None, total: int) -> Callable[[], None]:
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0], total), total)

    return tick


def encode_file(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], codec: Codec,
                bitrate_kbps: float, progress: ProgressCallback | None = None, lm: LMModel | None = None,
                block_s: float = BLOCK_S) -> LongformResult:
    """Audio file → ``.ecdc`` file, reading ``block_s`` seconds at a time (same bytes as encode + write_ecdc)."""
    blocks, length, _, _, total = _model_rate_blocks(codec, Path(in_path), block_s)
    num_codebooks = codec.model.quantizer.codebooks_for(bitrate_kbps)
    with tempfile.TemporaryFile() as body, _atomic_output(Path(out_path)) as tmp:
        spools: list[CodeSpool] = []
        streams = 0
        try:
            for item in _encode_blocks(codec, blocks, bitrate_kbps, _ticker(progress, total)):
                if isinstance(item, EncodedSegment):
                    streams = item.codes.shape[0]
                    _write_segment(body, item, lm)
                    continue
                streams = item.shape[0]
                spools = spools or [CodeSpool(num_codebooks) for _ in range(streams)]
                for spool, codes in zip(spools, item, strict=True):
                    spool.append(codes)
            for spool in spools:
                if lm is None:
                    spool.write_packed(body)
                else:
                    _lm_encode(body, spool.all_codes(), lm)
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


def _lm_encode(fo: BinaryIO, codes: np.ndarray, lm: LMModel) -> None:
    from codec.lm.segment import encode_segment_codes

    encode_segment_codes(fo, codes, lm)


def _write_segment(fo: BinaryIO, segment: EncodedSegment, lm: LMModel | None) -> None:
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
            _lm_encode(fo, codes[stream], lm)


class _AudioWriter:
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


def _trimmed(chunks: Iterator[np.ndarray], length: int) -> Iterator[np.ndarray]:
    """Audio chunks ``[..., n]`` cut to ``length`` samples in all."""
    done = 0
    for chunk in chunks:
        chunk = chunk[..., : max(0, length - done)]
        done += chunk.shape[-1]
        if chunk.shape[-1]:
            yield chunk


def _decode_stream(codec: Codec, items: Iterator[np.ndarray | EncodedSegment]) -> Iterator[np.ndarray]:
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


def _read_items(fo: BinaryIO, path: Path, codec: Codec, header: EcdcHeader, body_start: int,
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
        with _atomic_output(Path(out_path)) as tmp:
            writer = _AudioWriter(tmp, Path(out_path), config.sample_rate, channels, subtype)
            try:
                done = 0
                audio_chunks = _decode_stream(codec, _read_items(fo, path, codec, header, fo.tell(), lm))
                for chunk in _trimmed(audio_chunks, header.audio_length):
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
    blocks, length, in_rate, in_channels, total = _model_rate_blocks(codec, Path(in_path), block_s)
    info = read_audio_info(in_path)
    num_codebooks = codec.model.quantizer.codebooks_for(bitrate_kbps)
    codes = _encode_blocks(codec, blocks, bitrate_kbps, _ticker(progress, total))
    model_audio = _trimmed(_decode_stream(codec, codes), length)
    restored = (from_streams(a, in_channels) for a in model_audio)
    out_audio = _trimmed(_resampled(restored, codec.sample_rate, in_rate, in_channels, info.num_frames),
                         info.num_frames)
    with _atomic_output(Path(out_path)) as tmp:
        writer = _AudioWriter(tmp, Path(out_path), in_rate, in_channels, subtype)
        try:
            for chunk in out_audio:
                writer.write(chunk)
        finally:
            writer.close()
    streams = to_streams(np.zeros((in_channels, 1), np.float32), codec.channels).shape[0]
    return LongformResult(length, num_codebooks, streams, codec.sample_rate)
