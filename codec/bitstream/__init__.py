"""The ``.ecdc`` bitstream: 10-bit code packing and the container header/segments (no LM), as in encodec 0.1.1."""

from __future__ import annotations

from codec.bitstream.container import (
    EcdcHeader,
    frames_for_length,
    iter_segment_lengths,
    read_header,
    read_segment,
    segment_lengths,
    write_header,
    write_segment,
)
from codec.bitstream.packing import pack_codes, packed_size, unpack_codes

__all__ = [
    "EcdcHeader",
    "frames_for_length",
    "iter_segment_lengths",
    "pack_codes",
    "packed_size",
    "read_header",
    "read_segment",
    "segment_lengths",
    "unpack_codes",
    "write_header",
    "write_segment",
]
