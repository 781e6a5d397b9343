"""Segment-by-segment coding for segmented models (``encodec_48khz``: 1 s segments, 1 % overlap), bounded memory.

The offline path cuts the whole signal into segments starting every ``stride`` samples, codes each, decodes them
in batches of :data:`codec.api.DECODE_BATCH_SEGMENTS` and overlap-adds. Here the same segments come and go one
at a time: the encoder holds at most one segment of audio, the decoder one batch of segments and the overlap
region. Every segment sees the same samples and the same calls as offline, and the overlap-add performs the same
additions in the same order, so results equal the offline ones exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from codec.model import EncodecModel, EncodedSegment
from codec.quantization import check_bitrate

__all__ = ["SegmentDecoder", "SegmentEncoder"]


class SegmentEncoder:
    """Audio chunks ``[S, C, n]`` (any size) at the model's rate → the segments they complete."""

    def __init__(self, model: EncodecModel, bitrate_kbps: float) -> None:
        if model.config.segment_length is None or model.config.segment_stride is None:
            raise ValueError(f"{model.config.name} does not code in segments")
        self.model = model.eval()
        self.bitrate_kbps = check_bitrate(bitrate_kbps, model.config.bitrates_kbps)
        self.segment = model.config.segment_length
        self.stride = model.config.segment_stride
        self._buffer: torch.Tensor | None = None  # samples from the next segment's start on

    def push(self, audio: np.ndarray | torch.Tensor) -> list[EncodedSegment]:
        """Append ``[S, C, n]`` samples; returns the segments now complete (codes ``[S, K, F]``, scales ``[S, 1]``)."""
        x = torch.as_tensor(audio, dtype=torch.float32)
        self._buffer = x if self._buffer is None else torch.cat([self._buffer, x], dim=-1)
        out = []
        while self._buffer.shape[-1] >= self.segment:
            out.append(self._encode(self._buffer[..., : self.segment]))
            self._buffer = self._buffer[..., self.stride :].clone()
        return out

    def flush(self) -> list[EncodedSegment]:
        """End of input: the remaining (shorter) segments, as offline codes them."""
        out = []
        while self._buffer is not None and self._buffer.shape[-1] > 0:
            out.append(self._encode(self._buffer[..., : self.segment]))
            self._buffer = self._buffer[..., self.stride :]
        self._buffer = None
        return out

    def _encode(self, x: torch.Tensor) -> EncodedSegment:
        with torch.inference_mode():
            return self.model.encode_segment(x, self.bitrate_kbps)


class SegmentDecoder:
    """Segments in order → overlap-added float32 audio ``[S, C, n]`` as soon as no later segment can change it."""

    def __init__(self, model: EncodecModel, batch_segments: int | None = None) -> None:
        from codec.api import DECODE_BATCH_SEGMENTS

        if model.config.segment_stride is None:
            raise ValueError(f"{model.config.name} does not code in segments")
        self.model = model.eval()
        self.stride = model.config.segment_stride
        self.batch_segments = batch_segments or DECODE_BATCH_SEGMENTS
        self._queue: list[EncodedSegment] = []
        self._index = 0  # segments overlap-added so far
        self._base = 0  # sample index of _acc[..., 0]
        self._acc: torch.Tensor | None = None
        self._weight_sum: torch.Tensor | None = None
        self._weight: torch.Tensor | None = None

    def push(self, segment: EncodedSegment) -> np.ndarray | None:
        """Queue one segment; decodes a batch when it is full. Returns final audio or None."""
        self._queue.append(segment)
        if len(self._queue) < self.batch_segments:
            return None
        return self._decode_queue()

    def flush(self) -> np.ndarray | None:
        """All remaining audio (the caller trims it to the signal's length)."""
        out = self._decode_queue() if self._queue else None
        if self._acc is None or self._acc.shape[-1] == 0:
            return out
        assert self._weight_sum is not None
        rest = (self._acc / self._weight_sum).numpy()
        self._acc = self._weight_sum = None
        return rest if out is None else np.concatenate([out, rest], axis=-1)

    def _decode_queue(self) -> np.ndarray | None:
        with torch.inference_mode():
            frames = self.model.decode_segments(self._queue)
            self._queue = []
            for frame in frames:
                self._add(frame)
            return self._take_final()

    def _add(self, frame: torch.Tensor) -> None:
        """``linear_overlap_add``'s accumulation for one frame, in the same order of operations."""
        if self._weight is None:
            t = torch.linspace(0, 1, frame.shape[-1] + 2, dtype=frame.dtype)[1:-1]
            self._weight = 0.5 - (t - 0.5).abs()
        start = self._index * self.stride - self._base
        stop = start + frame.shape[-1]
        self._grow(stop, frame)
        assert self._acc is not None and self._weight_sum is not None
        length = frame.shape[-1]
        self._acc[..., start:stop] += self._weight[:length] * frame
        self._weight_sum[start:stop] += self._weight[:length]
        self._index += 1

    def _grow(self, stop: int, like: torch.Tensor) -> None:
        have = 0 if self._acc is None else self._acc.shape[-1]
        if stop <= have:
            return
        acc = torch.zeros(*like.shape[:-1], stop, dtype=like.dtype)
        weight_sum = torch.zeros(stop, dtype=like.dtype)
        if self._acc is not None and self._weight_sum is not None:
            acc[..., :have] = self._acc
            weight_sum[:have] = self._weight_sum
        self._acc, self._weight_sum = acc, weight_sum

    def _take_final(self) -> np.ndarray | None:
        """Samples before the next segment's start are final: divide and hand them out."""
        assert self._acc is not None and self._weight_sum is not None
        final = self._index * self.stride - self._base
        if final <= 0:
            return None
        out = (self._acc[..., :final] / self._weight_sum[:final]).numpy()
        self._acc = self._acc[..., final:].clone()
        self._weight_sum = self._weight_sum[final:].clone()
        self._base += final
        return out
