"""Streaming: causal models code chunk by chunk with per-layer state; segmented models segment by segment."""

from codec.streaming.causal import StreamingDecoder, StreamingEncoder, check_streamable
from codec.streaming.latency import StreamingLatency, latency
from codec.streaming.layers import UnsupportedStreamingError
from codec.streaming.segments import SegmentDecoder, SegmentEncoder

__all__ = [
    "SegmentDecoder",
    "SegmentEncoder",
    "StreamingDecoder",
    "StreamingEncoder",
    "StreamingLatency",
    "UnsupportedStreamingError",
    "check_streamable",
    "latency",
]
